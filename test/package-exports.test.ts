import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { packageRoot } from '../src/util/package-root.js';

/**
 * The public surface of the package: the exports map of package.json and, for each entry, the exact
 * list of names it exports (values and types). A change here is a change of public API, made on
 * purpose and visible in review. Entries list their names one by one: no `export *`, so nothing
 * becomes public by being added to an inner file.
 */
const ENTRIES = {
  writ: { source: 'src/sdk/index.ts', built: 'dist/src/sdk/index.js', types: 'dist/src/sdk/index.d.ts' },
  'writ/core': { source: 'src/core/index.ts', built: 'dist/src/core/index.js', types: 'dist/src/core/index.d.ts' },
  'writ/pack': { source: 'src/catalog/pack-api.ts', built: 'dist/src/catalog/pack-api.js', types: 'dist/src/catalog/pack-api.d.ts' },
} as const;

const VALUES: Record<keyof typeof ENTRIES, readonly string[]> = {
  writ: ['CODES', 'READ_TOKEN_SCHEME', 'WritClient', 'WritError', 'actorOfKeyId', 'commandHashOf', 'importSigningKey', 'isCode', 'loadPrivateKey', 'newNonce', 'parseVerifierKey', 'pkcs8FromPem', 'readAuthorizationWeb', 'signEnvelope', 'signEnvelopeWeb', 'signReadToken', 'verifyReceipt'],
  'writ/core': [
    'ALL_CODES', 'CODES', 'FIELD_MAX', 'MemoryTree', 'NOTE_MAX_BYTES', 'NOTE_MAX_SIGNATURES', 'SIGNATURE_ALGS', 'SIG_TYPE_COSIGNATURE', 'SIG_TYPE_ED25519',
    'TLOG_PROOF_MAX_BYTES', 'TLOG_PROOF_MAX_HASHES', 'TreeBuilder', 'WritError', 'checkEnvelopeShape', 'codeSpec', 'consistencyRanges', 'cosignatureMessage',
    'ed25519Verify', 'emptyRoot', 'encodeTimestamp', 'formatCheckpoint', 'formatNote', 'formatTlogProof', 'formatVerifierKey', 'fromBase64', 'fromHex',
    'hashEquals', 'inclusionRanges', 'isCode', 'isDateTime', 'isValidKeyName', 'keyIdOf', 'parseCheckpoint', 'parseDecimal', 'parseNote', 'parseStrictJson',
    'parseTlogProof', 'parseVerifierKey', 'pureHasher', 'rootFromInclusion', 'sha256', 'signatureLine', 'toBase64', 'toHex', 'toWritError', 'unsignedPart',
    'verifyConsistency', 'verifyInclusion', 'verifyNote', 'verifyTlogProof',
  ],
  'writ/pack': ['HandlerRefusal', 'REFUSAL_CODES', 'everyInterval'],
};

const TYPES: Record<keyof typeof ENTRIES, readonly string[]> = {
  writ: ['Code', 'Envelope', 'EnvelopeSignature', 'HttpAnswer', 'ReadSigner', 'SignKey', 'SignatureAlg', 'Signer', 'VerifiedReceipt', 'VerifierKey', 'VerifyReceiptOptions', 'WebSigner'],
  'writ/core': ['Checkpoint', 'Code', 'CodeSpec', 'Envelope', 'EnvelopeSignature', 'Hash', 'Hasher', 'LeafRange', 'Note', 'NoteSignature', 'PartialEnvelope', 'SignatureAlg', 'StrictJsonLimits', 'TlogProof', 'VerifierKey', 'VerifyTlogProofOptions'],
  'writ/pack': ['ApplyHooks', 'BackgroundJob', 'Code', 'EffectContext', 'EffectPlan', 'EntityReadPolicy', 'EntityRow', 'Envelope', 'Handler', 'JobContext', 'PackCli', 'PackCliContext', 'PackEnvironment', 'PackModule', 'PackReads', 'PackRequest', 'PackRoute', 'PackRouteAccess', 'PackRouteContext', 'PackSetup', 'PackSignerOptions', 'RefusalCode', 'RoleDocuments', 'SystemAnswer'],
};

/** Exported names of an entry's source, read with the TypeScript parser, split into values and types. */
function exportedNames(file: string): { values: string[]; types: string[]; star: number } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const values: string[] = [];
  const types: string[] = [];
  let star = 0;
  const isExported = (node: ts.Node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const node of source.statements) {
    if (ts.isExportDeclaration(node)) {
      if (!node.exportClause || !ts.isNamedExports(node.exportClause)) {
        star++;
        continue;
      }
      for (const el of node.exportClause.elements) (node.isTypeOnly || el.isTypeOnly ? types : values).push(el.name.text);
    } else if (isExported(node)) {
      if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) types.push(node.name.text);
      else if (ts.isClassDeclaration(node) || ts.isFunctionDeclaration(node)) values.push(node.name!.text);
      else if (ts.isVariableStatement(node)) for (const d of node.declarationList.declarations) values.push((d.name as ts.Identifier).text);
    }
  }
  return { values: values.sort(), types: types.sort(), star };
}

describe('the public package', () => {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  it('maps writ, writ/core and writ/pack (types first) to the built entries, and nothing else', () => {
    assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './core', './pack', './package.json']);
    for (const [name, entry] of Object.entries(ENTRIES)) {
      const key = name === 'writ' ? '.' : `./${name.slice('writ/'.length)}`;
      assert.deepEqual(pkg.exports[key], { types: `./${entry.types}`, default: `./${entry.built}` }, name);
    }
    assert.equal(pkg.types, `./${ENTRIES.writ.types}`);
  });

  for (const [name, entry] of Object.entries(ENTRIES) as Array<[keyof typeof ENTRIES, (typeof ENTRIES)[keyof typeof ENTRIES]]>) {
    it(`exports from ${name} exactly the names it lists, one by one`, async () => {
      const found = exportedNames(join(root, entry.source));
      assert.equal(found.star, 0, `${entry.source} re-exports with export *`);
      assert.deepEqual(found.values, [...VALUES[name]].sort(), `values of ${name}`);
      assert.deepEqual(found.types, [...TYPES[name]].sort(), `types of ${name}`);
      // The package resolves its own name through the exports map, as an installed copy does.
      const specifier: string = name;
      const loaded = await import(specifier);
      assert.deepEqual(Object.keys(loaded).sort(), [...VALUES[name]].sort(), `runtime names of ${name}`);
      const declared = readFileSync(join(root, entry.types), 'utf8');
      for (const n of [...VALUES[name], ...TYPES[name]]) assert.match(declared, new RegExp(`\\b${n}\\b`), `${entry.types} declares ${n}`);
    });
  }
});
