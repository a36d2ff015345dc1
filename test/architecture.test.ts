import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { packageRoot } from '../src/util/package-root.js';

/**
 * Architecture rules (STYLE.md §1–3, DESIGN.md §9), checked on every import of src/**\/*.ts:
 *   drivers  better-sqlite3 and pg only in src/store/<adapter>/; nats only in src/transports/nats/ or src/outbox/
 *   core     src/core/ imports only node: built-ins and files inside src/core/
 *   browser  src/core/tlog/ imports only files inside src/core/ (not even node: built-ins) and never
 *            names the Node globals Buffer, process or require, so browsers run the same verification;
 *            so does every file the public entry `writ/core` (src/core/index.ts) reaches
 *   stages   a stage's entry function (the export named after its folder, e.g. `intake` in
 *            src/pipeline/intake/) is imported only by src/pipeline/pipeline.ts, and no other file
 *            except the composition root src/writ.ts imports from two or more stage folders —
 *            so the stage order can live in pipeline.ts only.
 *   adapters a store adapter (src/store/<adapter>/) is imported from outside src/store/ only by the
 *            offline tools listed in OFFLINE_TOOLS, each with its reason; the rest of writ opens the
 *            store through the factory src/store/open-store.ts and is typed on the port's roles;
 *            src/transports/ never imports an adapter (routes read writ.queries).
 *   packs    nothing outside src/packs/<p>/ imports a file of src/packs/<p>/ (not even a type): packs
 *            reach writ through the pack API (src/catalog/pack-module.ts) and are loaded through the
 *            registry src/packs/index.ts, which is in no pack. PACK_EXCEPTIONS names the files that
 *            still do, with why.
 * Imports are read with the TypeScript parser (static, re-exports, dynamic import(), require(),
 * import types), never with regular expressions over the text.
 */

interface ImportedName {
  readonly name: string;
  readonly typeOnly: boolean;
}

interface ImportRef {
  /** Importing file, relative to the package root, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** The imported file (relative to the package root, `.js` read as `.ts`) for relative specifiers. */
  readonly resolved: string | null;
  /** Named bindings; empty for side-effect imports. */
  readonly names: readonly ImportedName[];
  /** True for `import * as`, `export *`, dynamic import() and require(): everything is reachable. */
  readonly namespace: boolean;
  /** True when the whole import only brings in types. */
  readonly typeOnly: boolean;
}

interface Violation {
  readonly rule: 'drivers' | 'core' | 'browser' | 'stage-entry' | 'stage-order' | 'adapters' | 'packs';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const PIPELINE = 'src/pipeline/pipeline.ts';
const BROWSER_SAFE = 'src/core/tlog/';
/** The public entry `writ/core` (package.json exports "./core"), promised to run in a browser. */
const BROWSER_ENTRY = 'src/core/index.ts';
const NODE_GLOBALS: ReadonlySet<string> = new Set(['Buffer', 'process', 'require']);
/** Names through which a global is reached as a property (`globalThis.process`). */
const GLOBAL_OBJECTS: ReadonlySet<string> = new Set(['globalThis', 'global', 'window', 'self']);
const COMPOSITION_ROOT = 'src/writ.ts';

/** A file of a store adapter's folder (src/store/sqlite/, src/store/postgres/, …). */
const ADAPTER_FILE = /^src\/store\/[^/]+\//;
/** Files outside src/store/ that may import an adapter, and why; none may be under src/transports/. */
const OFFLINE_TOOLS: Readonly<Record<string, string>> = {
  'src/packs/knowledge/search-index.ts': 'the knowledge pack opens its search index (and `writ knowledge reindex` rebuilds it), an SQLite file of its own beside the store whatever store.kind is',
  'src/packs/knowledge/search.ts': 'keeps that search index current (its type only)',
  'src/home/backup.ts': '`writ backup` snapshots the embedded database file itself, and reads its log heads for the manifest',
  'src/home/offline.ts': 'the door of the CLI\'s offline commands: the home\'s writer lock, swapping rebuilt entity history in',
};


/**
 * The files outside a pack that still import it, each with the one pack it may import and why. None
 * may be in src/pipeline, src/state, src/scheduler or src/writ.ts. There are none: a pack's routes
 * and CLI commands are contributed through the pack API (PackModule.routes and .cli, docs/packs.md).
 */
export const PACK_EXCEPTIONS: Readonly<Record<string, { readonly pack: string; readonly reason: string }>> = {};

/** The registry of built-in packs: the one file that names every pack. */
const PACK_REGISTRY = 'src/packs/index.ts';

/** The pack a path lies in ('writ' for src/packs/writ/handlers.ts); null outside src/packs/<p>/. */
function packOf(path: string | null): string | null {
  const m = path ? /^src\/packs\/([^/]+)\//.exec(path) : null;
  return m ? m[1] : null;
}

const DRIVERS: ReadonlyArray<{ readonly module: string; readonly allowed: RegExp; readonly where: string }> = [
  { module: 'better-sqlite3', allowed: /^src\/store\/[^/]+\//, where: 'src/store/<adapter>/' },
  { module: 'pg', allowed: /^src\/store\/[^/]+\//, where: 'src/store/<adapter>/' },
  { module: 'nats', allowed: /^src\/(transports\/nats|outbox)\//, where: 'src/transports/nats/ or src/outbox/' },
  ...['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/nats-core'].map((module) => ({
    module,
    allowed: /^src\/(transports\/nats|outbox)\//,
    where: 'src/transports/nats/ or src/outbox/',
  })),
];

function resolveRelative(file: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  return posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
}

/** Every import of one source file. */
export function importsOf(file: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const add = (node: ts.Node, specifier: string, names: ImportedName[], namespace: boolean, typeOnly: boolean) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    out.push({ file, line, specifier, resolved: resolveRelative(file, specifier), names, namespace, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const names: ImportedName[] = [];
      let namespace = false;
      const clauseTypeOnly = clause?.isTypeOnly ?? false;
      if (clause?.name) names.push({ name: 'default', typeOnly: clauseTypeOnly });
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) namespace = true;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) names.push({ name: (el.propertyName ?? el.name).text, typeOnly: clauseTypeOnly || el.isTypeOnly });
      }
      const typeOnly = clause !== undefined && (clauseTypeOnly || (!namespace && names.length > 0 && names.every((n) => n.typeOnly)));
      add(node, node.moduleSpecifier.text, names, namespace, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const names: ImportedName[] = [];
      if (clause && ts.isNamedExports(clause)) {
        for (const el of clause.elements) names.push({ name: (el.propertyName ?? el.name).text, typeOnly: node.isTypeOnly || el.isTypeOnly });
      }
      const namespace = !clause || ts.isNamespaceExport(clause);
      add(node, node.moduleSpecifier.text, names, namespace, node.isTypeOnly || (!namespace && names.every((n) => n.typeOnly)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node, node.moduleReference.expression.text, [], true, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteralLike(node.arguments[0])) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0].text, [], true, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, [], true, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The folder name of a pipeline stage a path lies in, e.g. 'intake' for src/pipeline/intake/intake.ts. */
function stageOf(path: string | null): string | null {
  const m = path ? /^src\/pipeline\/([^/]+)\//.exec(path) : null;
  return m ? m[1] : null;
}

function isDriver(specifier: string, module: string): boolean {
  return specifier === module || specifier.startsWith(`${module}/`);
}

/** Every rule violation among the imports of a source tree. */
export function violations(imports: readonly ImportRef[]): Violation[] {
  const found: Violation[] = [];
  const report = (rule: Violation['rule'], ref: ImportRef, message: string) => found.push({ rule, file: ref.file, line: ref.line, message });
  const stageFoldersUsed = new Map<string, Set<string>>();

  for (const ref of imports) {
    for (const driver of DRIVERS) {
      if (isDriver(ref.specifier, driver.module) && !driver.allowed.test(ref.file)) {
        report('drivers', ref, `imports ${ref.specifier}, allowed only in ${driver.where}`);
      }
    }

    if (ref.resolved !== null && ADAPTER_FILE.test(ref.resolved) && !ref.file.startsWith('src/store/')) {
      if (ref.file.startsWith('src/transports/')) {
        report('adapters', ref, `imports ${ref.specifier}; the transports never name a store adapter: routes read writ.queries (src/transports/queries.ts), offline CLI commands open the store with openStore (src/store/open-store.ts) or go through src/home/offline.ts`);
      } else if (!Object.hasOwn(OFFLINE_TOOLS, ref.file)) {
        report('adapters', ref, `imports ${ref.specifier}; outside src/store/ the store is opened by src/store/open-store.ts and typed on the roles of src/store/port.ts (an offline tool that must name the adapter is listed, with its reason, in OFFLINE_TOOLS of test/architecture.test.ts)`);
      }
    }

    if (ref.file.startsWith('src/core/')) {
      const inCore = ref.resolved !== null && ref.resolved.startsWith('src/core/');
      if (!ref.specifier.startsWith('node:') && !inCore) {
        report('core', ref, `imports ${ref.specifier}; src/core/ may import only node: built-ins and files inside src/core/`);
      }
    }

    if (ref.file.startsWith(BROWSER_SAFE)) {
      const inCore = ref.resolved !== null && ref.resolved.startsWith('src/core/');
      if (!inCore) report('browser', ref, `imports ${ref.specifier}; ${BROWSER_SAFE} must run in a browser, so it may import only files inside src/core/`);
    }

    const pack = packOf(ref.resolved);
    if (pack !== null && pack !== packOf(ref.file) && ref.file !== PACK_REGISTRY && PACK_EXCEPTIONS[ref.file]?.pack !== pack) {
      report('packs', ref, `imports ${ref.specifier}, a file of pack ${pack}; only files in src/packs/${pack}/ may (use the pack API, src/catalog/pack-module.ts)`);
    }

    const stage = stageOf(ref.resolved);
    if (stage === null || stage === stageOf(ref.file) || ref.typeOnly || ref.file === PIPELINE) continue;
    const entry = ref.names.find((n) => n.name === stage && !n.typeOnly);
    if (entry || ref.namespace) {
      report('stage-entry', ref, `imports ${entry ? `the stage function ${stage}()` : `all of ${ref.specifier}`}; only ${PIPELINE} may call stages`);
    }
    if (ref.file !== COMPOSITION_ROOT) {
      const used = stageFoldersUsed.get(ref.file) ?? new Set<string>();
      used.add(stage);
      stageFoldersUsed.set(ref.file, used);
    }
  }

  for (const [file, stages] of stageFoldersUsed) {
    if (stages.size >= 2) {
      found.push({ rule: 'stage-order', file, line: 1, message: `imports from the stages ${[...stages].sort().join(', ')}; only ${PIPELINE} combines stages` });
    }
  }
  return found;
}

/**
 * Uses of the Node globals Buffer, process and require in the browser-safe files: as a name in any
 * position (value or type), or as a property of a global object (`globalThis.process`,
 * `globalThis['Buffer']`). Property names of other objects (`options.process`) are not uses.
 */
export function nodeGlobalsOf(file: string, text: string, browserSafe = file.startsWith(BROWSER_SAFE)): Violation[] {
  if (!browserSafe) return [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Violation[] = [];
  const report = (node: ts.Node, name: string) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ rule: 'browser', file, line, message: `uses the Node global ${name}; ${BROWSER_SAFE} must run in a browser` });
  };
  const onGlobalObject = (expr: ts.Expression) => ts.isIdentifier(expr) && GLOBAL_OBJECTS.has(expr.text);
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const isMemberName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent)) && parent.name === node);
      if (!isMemberName || (ts.isPropertyAccessExpression(parent) && onGlobalObject(parent.expression))) report(node, node.text);
    } else if (ts.isElementAccessExpression(node) && onGlobalObject(node.expression) && ts.isStringLiteralLike(node.argumentExpression) && NODE_GLOBALS.has(node.argumentExpression.text)) {
      report(node, node.argumentExpression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * What breaks the browser promise of an entry: every file it reaches through imports (type-only
 * ones erased, so skipped) may import only files inside src/core/ and never name a Node global.
 */
export function browserEntryViolations(entry: string, imports: readonly ImportRef[], files: Readonly<Record<string, string>>): Violation[] {
  const reached = new Set<string>([entry]);
  const found: Violation[] = [];
  for (const file of reached) {
    for (const ref of imports.filter((r) => r.file === file && !r.typeOnly)) {
      if (ref.resolved === null || !ref.resolved.startsWith('src/core/')) {
        found.push({ rule: 'browser', file, line: ref.line, message: `imports ${ref.specifier}, reached from ${entry}, which must run in a browser` });
      } else reached.add(ref.resolved);
    }
    found.push(...nodeGlobalsOf(file, files[file] ?? '', true));
  }
  return found;
}

function sourceFiles(root: string, dir = 'src'): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out.sort();
}

function scan(files: Readonly<Record<string, string>>): ImportRef[] {
  return Object.entries(files).flatMap(([file, text]) => importsOf(file, text));
}

function format(found: readonly Violation[]): string {
  return found.map((v) => `  ${v.file}:${v.line} [${v.rule}] ${v.message}`).join('\n');
}

const root = packageRoot();
const files = Object.fromEntries(sourceFiles(root).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
const imports = scan(files);

describe('the architecture of src/', () => {
  describe('the import scanner', () => {
    it('reads every TypeScript file under src/', () => {
      assert.ok(Object.keys(files).length >= 30, `only ${Object.keys(files).length} files found under ${root}/src`);
      assert.ok(PIPELINE in files && COMPOSITION_ROOT in files, 'pipeline.ts and writ.ts must exist');
    });

    it('finds the better-sqlite3 import of the SQLite adapter', () => {
      const hit = imports.find((r) => r.file === 'src/store/sqlite/sqlite-store.ts' && r.specifier === 'better-sqlite3');
      assert.ok(hit, 'the scanner did not see src/store/sqlite/sqlite-store.ts import better-sqlite3');
      assert.deepEqual(hit.names, [{ name: 'default', typeOnly: false }]);
    });

    it('finds the stage functions that pipeline.ts imports', () => {
      const fromStages = imports.filter((r) => r.file === PIPELINE && stageOf(r.resolved) !== null);
      for (const stage of ['intake', 'authenticate', 'limits', 'validate', 'authorize', 'approval']) {
        const ref = fromStages.find((r) => stageOf(r.resolved) === stage);
        assert.ok(ref?.names.some((n) => n.name === stage && !n.typeOnly), `pipeline.ts should import the function ${stage}() from src/pipeline/${stage}/`);
      }
    });

    it('tells type-only imports, re-exports, dynamic imports and require() apart', () => {
      const refs = importsOf(
        'src/x/y.ts',
        [
          "import type { A } from './a.js';",
          "import { type B, c } from '../b.js';",
          "export { d } from './d.js';",
          "export * from './e.js';",
          "const f = await import('./f.js');",
          "const g = require('g');",
          "let h: typeof import('h');",
        ].join('\n'),
      );
      assert.deepEqual(
        refs.map((r) => [r.specifier, r.resolved, r.namespace, r.typeOnly, r.line]),
        [
          ['./a.js', 'src/x/a.ts', false, true, 1],
          ['../b.js', 'src/b.ts', false, false, 2],
          ['./d.js', 'src/x/d.ts', false, false, 3],
          ['./e.js', 'src/x/e.ts', true, false, 4],
          ['./f.js', 'src/x/f.ts', true, false, 5],
          ['g', null, true, false, 6],
          ['h', null, true, true, 7],
        ],
      );
    });
  });

  describe('the rules', () => {
    it('report a driver imported outside its adapter folder, even as a type', () => {
      const found = violations(
        scan({
          'src/store/sqlite/ok.ts': "import Database from 'better-sqlite3';",
          'src/store/postgres/ok.ts': "import pg from 'pg';",
          'src/outbox/sinks/ok.ts': "import { connect } from 'nats';",
          'src/transports/nats/ok.ts': "import { connect } from 'nats';",
          'src/store/port.ts': "import type { Database } from 'better-sqlite3';",
          'src/ledger/bad.ts': "import { Pool } from 'pg/lib/index.js';",
          'src/transports/http/bad.ts': "const nats = await import('nats');",
        }),
      );
      assert.deepEqual(found.map((v) => [v.rule, v.file]), [
        ['drivers', 'src/store/port.ts'],
        ['drivers', 'src/ledger/bad.ts'],
        ['drivers', 'src/transports/http/bad.ts'],
      ]);
    });

    it('report a store adapter imported outside src/store/, except by a listed offline tool, and always from src/transports/', () => {
      const found = violations(
        scan({
          'src/store/open-store.ts': "import { SqliteStore } from './sqlite/sqlite-store.js';",
          'src/store/postgres/pool.ts': "import type { LogHead } from '../port.js';",
          'src/home/backup.ts': "import { snapshotDatabase } from '../store/sqlite/snapshot.js';",
          'src/ledger/ok.ts': "import type { LogStore } from '../store/port.js';",
          'src/ledger/bad.ts': "import type { SqliteStore } from '../store/sqlite/sqlite-store.js';",
          'src/outbox/bad.ts': "import { PgStore } from '../store/postgres/pg-store.js';",
          'src/transports/http/bad.ts': "const m = await import('../../store/sqlite/reader-sql.js');",
          'src/transports/cli/bad.ts': "import { WriterLock } from '../../store/sqlite/writer-lock.js';",
        }),
      );
      assert.deepEqual(found.map((v) => [v.rule, v.file]), [
        ['adapters', 'src/ledger/bad.ts'],
        ['adapters', 'src/outbox/bad.ts'],
        ['adapters', 'src/transports/http/bad.ts'],
        ['adapters', 'src/transports/cli/bad.ts'],
      ]);
    });

    it('list no offline tool under src/transports/, nor one that does not exist', () => {
      for (const file of Object.keys(OFFLINE_TOOLS)) {
        assert.ok(!file.startsWith('src/transports/'), `${file} is listed as an offline tool, but the transports never name a store adapter`);
        assert.ok(file in files, `${file} is listed as an offline tool but does not exist; remove it from OFFLINE_TOOLS`);
      }
    });

    it('report src/core/ importing a package, a bare built-in or a file outside src/core/', () => {
      const found = violations(
        scan({
          'src/core/ok.ts': "import { createHash } from 'node:crypto';\nimport { WritError } from './errors.js';",
          'src/core/sub/ok.ts': "import { CODES } from '../codes.js';",
          'src/core/a.ts': "import canonicalize from 'canonicalize';",
          'src/core/b.ts': "import { createHash } from 'crypto';",
          'src/core/c.ts': "import { jcs } from '../canonical/jcs.js';",
        }),
      );
      assert.deepEqual(found.map((v) => [v.rule, v.file]), [
        ['core', 'src/core/a.ts'],
        ['core', 'src/core/b.ts'],
        ['core', 'src/core/c.ts'],
      ]);
    });

    it('report src/core/tlog/ importing a built-in, a package or a file outside src/core/, or naming a Node global', () => {
      const fixtures: Record<string, string> = {
        'src/core/tlog/ok.ts': [
          "import { WritError } from '../errors.js';",
          "import { sha256 } from './sha256.js';",
          'const options = { process: 1 };',
          'const n = options.process;',
          'interface Step { require: boolean }',
          'const subtle = globalThis.crypto.subtle;',
        ].join('\n'),
        'src/core/other.ts': "import { createHash } from 'node:crypto';\nconst b = Buffer.from('');",
        'src/core/tlog/a.ts': "import { createHash } from 'node:crypto';",
        'src/core/tlog/b.ts': "import { jcs } from '../../canonical/jcs.js';",
        'src/core/tlog/c.ts': "const b = Buffer.from('x');",
        'src/core/tlog/d.ts': 'export function f(x: Buffer): number { return x.length; }',
        'src/core/tlog/e.ts': 'const env = globalThis.process.env;',
        'src/core/tlog/f.ts': "const c = require('node:crypto');",
        'src/core/tlog/g.ts': "const B = globalThis['Buffer'];",
      };
      const found = [...violations(scan(fixtures)), ...Object.entries(fixtures).flatMap(([file, text]) => nodeGlobalsOf(file, text))];
      assert.deepEqual(found.map((v) => [v.rule, v.file, v.line]), [
        ['browser', 'src/core/tlog/a.ts', 1],
        ['core', 'src/core/tlog/b.ts', 1],
        ['browser', 'src/core/tlog/b.ts', 1],
        ['browser', 'src/core/tlog/f.ts', 1],
        ['browser', 'src/core/tlog/c.ts', 1],
        ['browser', 'src/core/tlog/d.ts', 1],
        ['browser', 'src/core/tlog/e.ts', 1],
        ['browser', 'src/core/tlog/f.ts', 1],
        ['browser', 'src/core/tlog/g.ts', 1],
      ]);
    });

    it('report a file reached from the browser entry that imports a built-in or names a Node global, not one it does not reach', () => {
      const fixtures: Record<string, string> = {
        [BROWSER_ENTRY]: "export { a } from './a.js';\nexport type { T } from './typed.js';",
        'src/core/a.ts': "import { b } from './b.js';\nexport const a = b;",
        'src/core/b.ts': "import { createHash } from 'node:crypto';\nexport const b = Buffer.from('');",
        'src/core/typed.ts': "import { createHash } from 'node:crypto';\nexport type T = string;",
        'src/core/unreached.ts': "import { createHash } from 'node:crypto';",
      };
      const found = browserEntryViolations(BROWSER_ENTRY, scan(fixtures), fixtures);
      assert.deepEqual(found.map((v) => [v.rule, v.file, v.line]), [
        ['browser', 'src/core/b.ts', 1],
        ['browser', 'src/core/b.ts', 2],
      ]);
    });

    it('report a stage function imported anywhere but pipeline.ts, and files combining stages', () => {
      const found = violations(
        scan({
          [PIPELINE]: "import { intake } from './intake/intake.js';\nimport { limits } from './limits/limits.js';",
          [COMPOSITION_ROOT]: "import { Freshness } from './pipeline/freshness/freshness.js';\nimport { RateLimiter } from './pipeline/limits/limits.js';",
          'src/pipeline/apply/applier.ts': "import { replayOf } from '../idempotency/idempotency.js';\nimport type { Intake } from '../context.js';",
          'src/pipeline/intake/helper.ts': "import { intake } from './intake.js';",
          'src/transports/http/types-only.ts': "import type { intake } from '../../pipeline/intake/intake.js';\nimport type { limits } from '../../pipeline/limits/limits.js';",
          'src/transports/mcp/bad.ts': "import { validate } from '../../pipeline/validate/validate.js';",
          'src/approvals/bad.ts': "import * as stage from '../pipeline/authorize/authorize.js';",
          'src/transports/nats/bad.ts': "import { Freshness } from '../../pipeline/freshness/freshness.js';\nimport { Idempotency } from '../../pipeline/idempotency/idempotency.js';",
        }),
      );
      assert.deepEqual(found.map((v) => [v.rule, v.file]), [
        ['stage-entry', 'src/transports/mcp/bad.ts'],
        ['stage-entry', 'src/approvals/bad.ts'],
        ['stage-order', 'src/transports/nats/bad.ts'],
      ]);
    });
  });

  describe('the packs rule', () => {
    it('reports a file outside a pack importing it, even a type, and not the pack itself or the registry', () => {
      const found = violations(
        scan({
          'src/state/directory.ts': "import type { ActorDoc } from '../packs/access/handlers.js';",
          'src/writ.ts': "import { BUILTIN_PACKS } from './packs/index.js';\nimport { knowledgeOf } from './packs/knowledge/pack.js';",
          'src/packs/index.ts': "import { accessPack } from './access/pack.js';",
          'src/packs/writ/approval-handlers.ts': "import { unstage } from './airlock-index.js';\nimport type { ActorDoc } from '../access/handlers.js';",
          'src/packs/knowledge/pack.ts': "import { RefSync } from './refs.js';",
          'src/transports/cli/knowledge.ts': "import { SearchSync } from '../../packs/knowledge/search.js';\nimport { x } from '../../packs/content/schedule.js';",
        }),
      );
      assert.deepEqual(found.map((v) => [v.rule, v.file, v.line]), [
        ['packs', 'src/state/directory.ts', 1],
        ['packs', 'src/writ.ts', 2],
        ['packs', 'src/packs/writ/approval-handlers.ts', 2],
        ['packs', 'src/transports/cli/knowledge.ts', 1],
        ['packs', 'src/transports/cli/knowledge.ts', 2],
      ]);
    });

    it('lists only exceptions that are still needed', () => {
      for (const [file, { pack }] of Object.entries(PACK_EXCEPTIONS)) {
        assert.ok(imports.some((r) => r.file === file && packOf(r.resolved) === pack), `${file} no longer imports pack ${pack}: remove its exception`);
        assert.ok(!/^src\/(pipeline|state|scheduler)\/|^src\/writ\.ts$/.test(file), `${file} may not be an exception`);
      }
    });
  });

  it('holds for every file under src/', () => {
    assert.ok(Object.keys(files).some((f) => f.startsWith(BROWSER_SAFE)), `no files under ${BROWSER_SAFE}: the browser rule checks nothing`);
    assert.ok(BROWSER_ENTRY in files, `${BROWSER_ENTRY} is missing: the browser entry rule checks nothing`);
    const found = [...violations(imports), ...Object.entries(files).flatMap(([file, text]) => nodeGlobalsOf(file, text)), ...browserEntryViolations(BROWSER_ENTRY, imports, files)];
    assert.equal(found.length, 0, `architecture violations:\n${format(found)}`);
  });
});
