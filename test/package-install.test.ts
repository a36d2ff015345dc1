import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { toWritError, WritError } from '../src/core/errors.js';
import { ADMIN_KEY_ID } from '../src/home/init.js';
import { packageRoot } from '../src/util/package-root.js';
import { startHarness, type Harness } from './support/harness.js';

const run = promisify(execFile);
const root = packageRoot();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/**
 * The lockfile of the scratch project: writ from the tarball, and every runtime dependency pinned
 * exactly as this repository's package-lock.json pins it (dev dependencies left out). With it,
 * `npm ci --offline` installs from the npm cache alone, which `npm ci` of this repository filled.
 */
function scratchLock(tarball: string): unknown {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const self = lock.packages[''];
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', dependencies: { writ: `file:${tarball}` } },
    'node_modules/writ': { version: self.version, resolved: `file:${tarball}`, license: self.license, dependencies: self.dependencies, bin: self.bin, engines: self.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) if (path !== '' && !entry.dev) packages[path] = entry;
  return { name: 'scratch', lockfileVersion: 3, requires: true, packages };
}

/** Runs npm; `--ignore-scripts`: the three entries load no native module, so better-sqlite3 need not build. */
async function npm(cwd: string, args: string[]): Promise<string> {
  // Under `npm test` the environment carries the outer npm's settings (npm_config_*, npm_package_*):
  // keep only the cache's, so that the scratch project is installed as a user would install it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || /^npm_config_cache$/i.test(k)));
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--ignore-scripts'], { cwd, env: { ...env, npm_config_update_notifier: 'false' }, maxBuffer: 16 << 20 });
  return stdout;
}

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { WritClient, commandHashOf, loadPrivateKey, signEnvelope, verifyReceipt } from 'writ';
import { CODES, parseVerifierKey, verifyTlogProof } from 'writ/core';
import { HandlerRefusal } from 'writ/pack';

const [url, keyFile, keyId, tenant, sku] = process.argv.slice(2);
const signer = { key: loadPrivateKey(readFileSync(keyFile, 'utf8')), keyId };
const client = new WritClient(url, { ...signer, tenant });
const { envelope, commandHash } = signEnvelope({ action: 'UpsertProduct', payload: { sku, name: 'Tea', price: { amount: 450, currency: 'EUR' } } }, signer, { tenant });
const answer = await client.submit(envelope);
const vkey = (await client.get('/v1/logs')).body.verifierKey;
const receipt = await client.receipt(tenant, envelope.requestId);
// Offline from here: the receipt text and the verifier key are all it needs.
const verified = await verifyReceipt(receipt, vkey, { commandHash });
const core = await verifyTlogProof(receipt, parseVerifierKey(vkey));
let wrongCommand;
try {
  await verifyReceipt(receipt, vkey, { commandHash: '0'.repeat(64) });
} catch (err) {
  wrongCommand = err.code;
}
const refusal = new HandlerRefusal('INVALID_STATE', 'sold out');
console.log(JSON.stringify({ status: answer.status, commandHash, recomputed: commandHashOf(envelope), verified, coreIndex: core.index, wrongCommand, refusal: { code: refusal.code, http: CODES[refusal.code].http } }));
`;

const HANDLER = `
import { HandlerRefusal, type EffectContext, type EffectPlan, type Handler } from 'writ/pack';

export const reserve: Handler = (ctx: EffectContext): EffectPlan => {
  const stock = (ctx.current?.doc as { stock?: number } | null)?.stock ?? 0;
  const qty = Number(ctx.payload.qty);
  if (stock < qty) throw new HandlerRefusal('INVALID_STATE', \`only \${stock} left\`, { details: { stock } });
  return { writes: [{ ...ctx.target, doc: { stock: stock - qty } }], result: { left: stock - qty } };
};
`;

/** Mistakes the declarations must catch: a code a handler may not refuse with, a malformed plan. */
const BAD_HANDLER = `
import { HandlerRefusal, type Handler } from 'writ/pack';

export const internal: Handler = () => {
  throw new HandlerRefusal('INTERNAL', 'not a refusal');
};
export const malformed: Handler = () => ({ writes: 'none' });
`;

describe('the packed package, installed in a scratch project outside the repository', () => {
  let dir: string;
  let project: string;
  let h: Harness;
  let installedFrom = 'the npm cache alone (--offline)';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writ-package-'));
    const packed = JSON.parse(await npm(root, ['pack', '--json', '--pack-destination', dir]));
    const tarball = join(dir, packed[0].filename);
    project = join(dir, 'scratch');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { writ: `file:${tarball}` } }));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify(scratchLock(tarball)));
    // Offline first: everything is in the npm cache after `npm ci` of this repository (CI's case).
    // A cache that lacks a package (a dependency added since the last `npm ci` here) is filled
    // from the registry for that package only; the test says which way it installed.
    try {
      await npm(project, ['ci', '--offline']);
    } catch (err) {
      if (!/ENOTCACHED/.test(String((err as { stderr?: string }).stderr))) throw err;
      await npm(project, ['ci', '--prefer-offline']);
      installedFrom = 'the npm cache and, for packages missing there, the registry (--prefer-offline)';
    }
    writeFileSync(join(project, 'main.mjs'), SCRIPT);
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the built library, the CLI, the packs\' YAML and Cedar files, README and LICENSE, and no tests', async (t) => {
    t.diagnostic(`the scratch project installed the tarball from ${installedFrom}`);
    const [packed] = JSON.parse(await npm(root, ['pack', '--dry-run', '--json']));
    const paths: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const must of ['package.json', 'README.md', 'LICENSE', 'bin/writ', 'dist/src/sdk/index.js', 'dist/src/sdk/index.d.ts', 'dist/src/core/index.d.ts', 'dist/src/catalog/pack-api.d.ts', 'dist/src/transports/cli/main.js', 'src/packs/writ/actions.yaml', 'src/packs/writ/policies.cedar']) {
      assert.ok(paths.includes(must), `the package lacks ${must}`);
    }
    assert.deepEqual(paths.filter((p) => /^(test|bench|dist\/test|dist\/bench|src\/.*\.ts$)/.test(p) || p.endsWith('.map')), []);
  });

  it('signs, submits, fetches a receipt and verifies it offline through writ, writ/core and writ/pack', async () => {
    const url = await h.listen();
    const sku = `scratch-${Date.now()}`;
    const { stdout } = await run(process.execPath, ['main.mjs', url, h.init.keyFile, ADMIN_KEY_ID, h.tenant, sku], { cwd: project }).catch((err) => {
      throw new Error(`the scratch script failed: ${err.stderr}`);
    });
    const out = JSON.parse(stdout);
    assert.equal(out.status, 200);
    assert.equal(out.recomputed, out.commandHash);
    assert.equal(out.verified.record.commandHash, out.commandHash);
    assert.equal(out.verified.log, `writ.local/${h.tenant}/commerce`);
    assert.equal(out.coreIndex, out.verified.index);
    assert.equal(out.wrongCommand, 'PROOF_INVALID');
    assert.deepEqual(out.refusal, { code: 'INVALID_STATE', http: 409 });
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/${sku}`)).status, 200, 'the command the scratch project signed was applied');
  });

  it('type-checks a handler against the shipped declarations and rejects a wrong one', async () => {
    writeFileSync(join(project, 'handler.ts'), HANDLER);
    writeFileSync(join(project, 'bad-handler.ts'), BAD_HANDLER);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] }, files: ['handler.ts', 'bad-handler.ts'] }),
    );
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).then(
      () => ({ stdout: '' }),
      (err: { stdout: string }) => err,
    );
    const errors = result.stdout.split('\n').filter((l) => /error TS/.test(l));
    assert.deepEqual(errors.map((l) => l.slice(0, l.indexOf('('))), ['bad-handler.ts', 'bad-handler.ts'], result.stdout);
    assert.match(errors[0], /"INTERNAL"/);
    assert.match(errors[1], /not assignable to type 'readonly \{ readonly type: string; readonly id: string/);
  });

  it('throws a HandlerRefusal that a server running another copy of writ still reads as its code', async () => {
    const installed = await import(pathToFileURL(join(project, 'node_modules', 'writ', 'dist', 'src', 'catalog', 'pack-api.js')).href);
    const refusal = new installed.HandlerRefusal('NOT_FOUND', 'no such order');
    assert.ok(!(refusal instanceof WritError), 'the installed copy is another class than this repository\'s');
    const seen = toWritError(refusal);
    assert.equal(seen.code, 'NOT_FOUND');
    assert.equal(seen.message, 'no such order');
    assert.throws(() => new installed.HandlerRefusal('INTERNAL', 'x'), /a handler refuses with one of/);
  });
});
