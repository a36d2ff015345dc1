import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { build } from 'esbuild';
import { leafHashHexImpl as nodeLeaf, sha256HexImpl as nodeHex } from '../src/core/sha256-node.js';
import { leafHashHexImpl as webLeaf, sha256HexImpl as webHex } from '../src/core/sha256-web.js';
import { importSigningKey, pkcs8FromPem } from '../src/core/web-signature.js';
import { readAuthorizationWeb, signEnvelopeWeb, type WebSigner } from '../src/sdk/sign-web.js';
import { packageRoot } from '../src/util/package-root.js';
import { buildConsole } from '../src/console/build.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';

/**
 * What the console needs from src/core and the SDK, checked under Node with the browser's code
 * paths: the portable SHA-256 gives node:crypto's results, envelopes and read tokens signed with
 * WebCrypto keys are accepted by a real server, and core bundles for a browser with no Node API.
 */
describe('src/core and the SDK in a browser', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it("hashes exactly as node:crypto does with the browser's SHA-256", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100_000]) {
      const data = randomBytes(n);
      assert.equal(webHex(data), nodeHex(data));
      assert.equal(webLeaf(data), nodeLeaf(data));
    }
    assert.equal(webHex('é ✓ 𝄞'), nodeHex('é ✓ 𝄞'));
  });

  for (const alg of ['ed25519', 'es256'] as const) {
    it(`signs envelopes and read tokens with a non-extractable WebCrypto ${alg} key that the server accepts`, async () => {
      const s = newSigner(`wendy-${alg}#1`, alg);
      const reg = await h.post(h.sign('writ.RegisterKey', { actor: `wendy-${alg}`, keyId: s.keyId, alg, publicKey: s.publicPem }));
      assert.equal(reg.status, 200, reg.raw);
      const pem = s.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const key = await importSigningKey(pkcs8FromPem(pem));
      assert.equal(key.extractable, false);
      const web: WebSigner = { keyId: s.keyId, alg, key, tenant: h.tenant };
      const { envelope } = await signEnvelopeWeb({ action: 'UpsertProduct', payload: { sku: `w-${alg}`, name: 'W', price: { amount: 1, currency: 'EUR' } } }, web);
      const res = await h.post(envelope);
      // Signed correctly: the pipeline gets to policy (this actor has no role), not BAD_SIGNATURE.
      assert.equal(res.body.code, 'FORBIDDEN', res.raw);
      const path = `/v1/entities/${h.tenant}/actor/wendy-${alg}`;
      const read = await h.app.inject({ method: 'GET', url: path, headers: { authorization: await readAuthorizationWeb(web, 'GET', path) } });
      assert.notEqual(read.statusCode, 401, read.body);
      const tampered = (await readAuthorizationWeb(web, 'GET', path)).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      assert.equal((await h.app.inject({ method: 'GET', url: path, headers: { authorization: tampered } })).statusCode, 401);
    });
  }

  it('bundles every file of src/core for a browser, apart from the two Node implementations the server keeps', async () => {
    const core = join(packageRoot(), 'src', 'core');
    const files = [...readdirSync(core).filter((f) => f.endsWith('.ts')).map((f) => join(core, f)), ...readdirSync(join(core, 'tlog')).map((f) => join(core, 'tlog', f))];
    // signature.ts verifies with node:crypto KeyObjects (the server's hot path; the browser signs
    // with web-signature.ts); sha256-node.ts is swapped for sha256-web.ts in the browser.
    const browserFiles = files.filter((f) => !/[/\\](signature|sha256-node)\.ts$/.test(f));
    assert.ok(browserFiles.length >= 20);
    const out = await build({ stdin: { contents: browserFiles.map((f) => `export * from ${JSON.stringify(f)};`).join('\n'), resolveDir: core, loader: 'ts' }, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', plugins: [{ name: 'hash', setup: (b) => b.onResolve({ filter: /sha256-node\.js$/ }, (a) => ({ path: join(a.resolveDir, 'sha256-web.ts') })) }] });
    assert.equal(out.errors.length, 0);
    assert.doesNotMatch(out.outputFiles[0].text, /node:|require\(|\bBuffer\b|process\./);
  });

  it('builds the console bundle with no Node API in it', async () => {
    // Into a folder of its own: the browser test may be serving dist/console meanwhile.
    const out = mkdtempSync(join(tmpdir(), 'writ-console-build-'));
    try {
      await buildConsole({ outdir: out });
      const js = readFileSync(join(out, 'console.js'), 'utf8');
      assert.doesNotMatch(js, /node:|\bBuffer\b/);
      assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<script type="module" src="\/console\/console\.js"><\/script>/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describeEachBackend("the approvals list's ETag (the console's inbox polls with it)", (backend) => {
  it('answers 304 while the page is unchanged, and 200 with a new ETag once a command is held', async () => {
    const h = await startHarness({}, { backend });
    try {
      writeFileSync(join(h.home, 'policies', 'hold.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
      await h.restart();
      const mo = await h.actor('mo', ['merch']);
      const path = '/v1/approvals?tenant=default&status=pending';
      const poll = (etag?: string) => h.app.inject({ method: 'GET', url: path, headers: { authorization: h.readAuth('GET', path), ...(etag ? { 'if-none-match': etag } : {}) } });
      const first = await poll();
      const etag = String(first.headers.etag);
      assert.equal(first.statusCode, 200);
      assert.match(etag, /^"[0-9a-f]{32}"$/);
      const again = await poll(etag);
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
      const held = await h.post(h.sign('UpsertProduct', { sku: 'held', name: 'Held', price: { amount: 2, currency: 'EUR' } }, {}, mo));
      assert.equal(held.status, 202, held.raw);
      const changed = await poll(etag);
      assert.equal(changed.statusCode, 200);
      assert.notEqual(changed.headers.etag, etag);
      assert.equal(JSON.parse(changed.body).items.length, 1);
      // Without an identity, no ETag and no 304: access is checked first.
      assert.equal((await h.app.inject({ method: 'GET', url: path, headers: { 'if-none-match': etag } })).statusCode, 401);
    } finally {
      await h.close();
    }
  });
});
