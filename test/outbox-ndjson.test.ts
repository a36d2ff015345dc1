import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { SCHEMA_V1, SCHEMA_V2 } from '../src/store/sqlite/schema.js';
import { runWrit } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { testOutbox, waitUntil } from './support/outbox.js';

/** The NDJSON sink and `writ outbox export` write exactly the outbox rows (docs/outbox.md). */

const lines = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describeEachBackend('outbox: NDJSON sink and export', (backend) => {
  let h: Harness;
  let dir: string;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writ-ndjson-'));
    h = await startHarness(testOutbox([
      { name: 'file', kind: 'ndjson', path: join(dir, 'events.ndjson') },
      { name: 'products', kind: 'ndjson', path: join(dir, 'products.ndjson'), fsync: 'never', filter: { actions: ['UpsertProduct'] } },
    ]), { backend });
    url = await h.listen();
    await h.actor('carol');
    for (let n = 0; n < 30; n++) {
      const r = await h.post(h.sign('UpsertProduct', { sku: `s${n % 4}`, name: `n${n}`, price: { amount: n, currency: 'EUR' } }));
      assert.equal(r.status, 200, r.raw);
    }
  });

  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends one line per event, equal to the outbox rows, and a filter keeps only its actions', async () => {
    const head = await h.writ.store.outboxHead();
    await waitUntil(() => h.writ.outbox!.runners.every((r) => r.cursor === head), 'both sinks reach the head');
    const rows = await h.writ.store.readOutbox(0, 10_000);
    const file = lines(readFileSync(join(dir, 'events.ndjson'), 'utf8'));
    assert.deepEqual([...file].sort((a, b) => (a.seq as number) - (b.seq as number)), rows.map((r) => ({ ...r })));
    const products = lines(readFileSync(join(dir, 'products.ndjson'), 'utf8'));
    assert.equal(products.length, rows.filter((r) => r.action === 'UpsertProduct').length);
    assert.ok(products.every((e) => e.action === 'UpsertProduct'));
    assert.ok(rows.some((r) => r.action !== 'UpsertProduct'), 'the filter had something to leave out');
  });

  it('writes each event as the bytes JSON.stringify gives for the parsed row, keys id, seq, …, data, ts', async () => {
    const rows = await h.writ.store.readOutbox(0, 10_000);
    const text = readFileSync(join(dir, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    const bySeq = new Map(text.map((l) => [(JSON.parse(l) as { seq: number }).seq, l]));
    assert.equal(bySeq.size, rows.length);
    for (const e of rows) {
      const expected = JSON.stringify({ id: e.id, seq: e.seq, tenant: e.tenant, scroll: e.scroll, index: e.index, action: e.action, target: e.target, version: e.version, type: e.type, data: e.data, ts: e.ts });
      assert.equal(bySeq.get(e.seq), expected);
    }
  });

  it('writ outbox export writes the outbox rows as NDJSON, from an id or a seq', async () => {
    const rows = await h.writ.store.readOutbox(0, 10_000);
    const all = await runWrit(['--home', h.home, '--url', url, 'outbox', 'export']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(lines(all.stdout), rows.map((r) => ({ ...r })));
    const sinkLines = readFileSync(join(dir, 'events.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
    const bySeq = new Map(sinkLines.map((l) => [(JSON.parse(l) as { seq: number }).seq, l]));
    for (const l of all.stdout.split('\n').filter((x) => x !== '')) assert.equal(l, bySeq.get((JSON.parse(l) as { seq: number }).seq), 'export writes the bytes the sink wrote');
    assert.match(all.stderr, new RegExp(`${rows.length} events`));

    const to = join(dir, 'export.ndjson');
    const fromId = await runWrit(['--home', h.home, '--url', url, 'outbox', 'export', '--from', rows[10].id, '--to', to]);
    assert.equal(fromId.code, 0, fromId.stderr);
    assert.deepEqual(lines(readFileSync(to, 'utf8')), rows.slice(10).map((r) => ({ ...r })));
    const fromSeq = await runWrit(['--home', h.home, '--url', url, 'outbox', 'export', '--from', String(rows[20].seq)]);
    assert.deepEqual(lines(fromSeq.stdout), rows.slice(20).map((r) => ({ ...r })));

    const missing = await runWrit(['--home', h.home, '--url', url, 'outbox', 'export', '--from', '01890000-0000-7000-8000-000000000000']);
    assert.equal(missing.code, 40);
    assert.match(missing.stderr, /NOT_FOUND/);
  });

  it('writ outbox status, retry and dlq go through the server', async () => {
    const status = await runWrit(['--home', h.home, '--url', url, 'outbox', 'status']);
    assert.equal(status.code, 0, status.stderr);
    const body = JSON.parse(status.stdout);
    assert.deepEqual(body.sinks.map((s: { name: string }) => s.name), ['file', 'products']);
    assert.equal(body.sinks[0].lagEvents, 0);
    const retry = await runWrit(['--home', h.home, '--url', url, 'outbox', 'retry', '--sink', 'file']);
    assert.deepEqual(JSON.parse(retry.stdout), { retried: ['file'] });
    const dlq = await runWrit(['--home', h.home, '--url', url, 'outbox', 'dlq', 'list']);
    assert.deepEqual(JSON.parse(dlq.stdout), { items: [] });
    const bad = await runWrit(['--home', h.home, '--url', url, 'outbox', 'dlq', 'redrive', '--sink', 'nope']);
    assert.equal(bad.code, 40);
    const health = await h.get('/healthz');
    assert.deepEqual(health.body.outbox.sinks.map((s: { name: string; lagEvents: number }) => [s.name, s.lagEvents]), [['file', 0], ['products', 0]]);
  });
});

describe('outbox: status without sinks', () => {
  it('says that no sink is configured and where to add one', async () => {
    const h = await startHarness();
    try {
      const url = await h.listen();
      const status = await runWrit(['--home', h.home, '--url', url, 'outbox', 'status']);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual(JSON.parse(status.stdout).sinks, []);
      assert.match(status.stderr, /no outbox sinks are configured/);
      assert.match(status.stderr, /outbox\.sinks/);
    } finally {
      await h.close();
    }
  });
});

describe('store: schema v3 upgrade', () => {
  it('keeps the events of a v2 database and numbers them in id order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-v2-'));
    try {
      const path = join(dir, 'writ.db');
      const db = new Database(path);
      db.exec(SCHEMA_V1);
      db.exec(SCHEMA_V2);
      const put = db.prepare("INSERT INTO outbox (id, tenant, scroll, idx, action, target, version, type, data, ts) VALUES (?, 't', 'commerce', ?, 'UpsertProduct', 'product/a', ?, 'product.upserted', '{}', '2026-01-01T00:00:00Z')");
      const ids = ['0190a000-0000-7000-8000-000000000002', '0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000003'];
      ids.forEach((id, i) => put.run(id, i, i + 1));
      db.pragma('user_version = 2');
      db.close();
      const store = new SqliteStore({ path });
      try {
        const rows = await store.readOutbox(0, 10);
        assert.deepEqual(rows.map((r) => [r.seq, r.id]), [...ids].sort().map((id, i) => [i + 1, id]));
        assert.equal(await store.outboxHead(), 3);
        assert.deepEqual(await store.sinkStates(), []);
      } finally {
        await store.close();
      }
      const again = new Database(path, { readonly: true });
      assert.equal(again.pragma('user_version', { simple: true }), 3);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
