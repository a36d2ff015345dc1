import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { loadPrivateKey } from '../src/core/signature.js';
import { WritClient } from '../src/sdk/client.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { CODES } from '../src/core/codes.js';
import { startHarness, type Harness } from './support/harness.js';
import { runWrit, startServer, type ServerChild } from './support/cli.js';

const PAGE_BYTES = 16 * 1024;

function product(sku: string, name: string, description = '') {
  return { sku, name, price: { amount: 100, currency: 'EUR' }, ...(description ? { description } : {}) };
}

describeEachBackend('GET /v1/entities/{tenant}/{type}/{id}/history', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ limits: { rate: 100_000, windowSeconds: 60, maxBuckets: 1000, maxPageBytes: PAGE_BYTES } }, { backend });
    for (let v = 1; v <= 12; v++) {
      const r = await h.post(h.sign('UpsertProduct', product('tea', `Tea v${v}`, 'd'.repeat(v % 3 === 0 ? 6000 : 10))));
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
  });
  after(() => h.close());

  it('lists every version oldest first, each with the document it had then', async () => {
    const res = await h.get(`/v1/entities/${h.tenant}/product/tea/history?limit=1000`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const all = [...res.body.versions];
    let next = res.body.next;
    while (next !== null) {
      const more = await h.get(`/v1/entities/${h.tenant}/product/tea/history?limit=1000&after=${next}`);
      all.push(...more.body.versions);
      next = more.body.next;
    }
    assert.deepEqual(all.map((v: any) => v.version), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(all.map((v: any) => v.doc.name), Array.from({ length: 12 }, (_, i) => `Tea v${i + 1}`));
    assert.equal(all.at(-1).version, (await h.get(`/v1/entities/${h.tenant}/product/tea`)).body.version);
  });

  it('pages with limit and after, and next continues exactly after the last version shown', async () => {
    const first = await h.get(`/v1/entities/${h.tenant}/product/tea/history?limit=2`);
    assert.deepEqual(first.body.versions.map((v: any) => v.version), [1, 2]);
    assert.equal(first.body.next, 2);
    const second = await h.get(`/v1/entities/${h.tenant}/product/tea/history?limit=2&after=${first.body.next}`);
    assert.deepEqual(second.body.versions.map((v: any) => v.version), [3, 4]);
    const last = await h.get(`/v1/entities/${h.tenant}/product/tea/history?after=11`);
    assert.deepEqual(last.body.versions.map((v: any) => v.version), [12]);
    assert.equal(last.body.next, null);
  });

  it('stops a page at limits.maxPageBytes however large the limit', async () => {
    const res = await h.getAs(`/v1/entities/${h.tenant}/product/tea/history?limit=1000`, h.admin);
    assert.ok(Buffer.byteLength(JSON.stringify(res.body)) <= PAGE_BYTES + 1024);
    assert.ok(res.body.versions.length < 12, 'the versions do not fit in one page');
    assert.equal(res.body.next, res.body.versions.at(-1).version);
  });

  it('answers NOT_FOUND for an entity that never existed and INVALID_ENVELOPE for a bad cursor', async () => {
    const missing = await h.get(`/v1/entities/${h.tenant}/product/none/history`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
    for (const q of ['after=-1', 'after=x', 'limit=0', 'limit=1001']) {
      const bad = await h.get(`/v1/entities/${h.tenant}/product/tea/history?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.code, 'INVALID_ENVELOPE', q);
    }
  });

  it('refuses an anonymous read', async () => {
    const res = await h.getAs(`/v1/entities/${h.tenant}/product/tea/history`, null);
    assert.equal(res.status, 401);
  });
});

describe('writ entity get|history|list', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-cli-entity-'));
  const home = join(scratch, 'home');
  let server: ServerChild;
  let url = '';
  const writ = (...args: string[]) => runWrit(['--home', home, '--url', url, ...args]);

  before(async () => {
    const init = await runWrit(['--home', home, 'init', '--port', '0']);
    assert.equal(init.code, 0, init.stderr);
    server = startServer(home);
    url = await server.ready;
    const admin = { key: loadPrivateKey(readFileSync(join(home, 'keys', 'admin.key'), 'utf8')), keyId: 'admin#1' };
    const client = new WritClient(url);
    for (const [sku, name] of [['tea', 'Tea'], ['tea', 'Green tea'], ['mug', 'Mug'], ['tea', 'Green tea, 100 g']]) {
      const answer = await client.submit(signEnvelope({ action: 'UpsertProduct', payload: product(sku, name) }, admin, { tenant: 'default' }).envelope);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    }
  });
  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('get prints the current version, and --at the version at a ledger index', async () => {
    const now = await writ('entity', 'get', 'product', 'tea');
    assert.equal(now.code, 0, now.stderr);
    const doc = JSON.parse(now.stdout);
    assert.equal(doc.version, 3);
    assert.equal(doc.doc.name, 'Green tea, 100 g');
    const first = JSON.parse((await writ('entity', 'history', 'product', 'tea')).stdout).versions[0];
    const then = await writ('entity', 'get', 'product', 'tea', '--at', String(first.index));
    assert.equal(JSON.parse(then.stdout).doc.name, 'Tea');
  });

  it('history prints every version oldest first, and --after/--limit page it', async () => {
    const run = await writ('entity', 'history', 'product', 'tea');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).versions.map((v: any) => [v.version, v.doc.name]), [[1, 'Tea'], [2, 'Green tea'], [3, 'Green tea, 100 g']]);
    const some = await writ('entity', 'history', 'product', 'tea', '--after', '1', '--limit', '1');
    assert.deepEqual(JSON.parse(some.stdout).versions.map((v: any) => v.version), [2]);
  });

  it('list prints the current entities of a type by id', async () => {
    const run = await writ('entity', 'list', 'product');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).items.map((e: any) => [e.id, e.version]), [['mug', 1], ['tea', 3]]);
  });

  it('exits with NOT_FOUND for a missing entity and says so', async () => {
    for (const args of [['get', 'product', 'none'], ['history', 'product', 'none']]) {
      const run = await writ('entity', ...args);
      assert.equal(run.code, CODES.NOT_FOUND.exit, run.stdout + run.stderr);
      assert.match(run.stderr, /does not exist/);
    }
  });
});
