import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { RECORD_SCAN_WINDOW } from '../src/transports/http/record-filter.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, rid, type Harness } from './support/harness.js';

interface Rec { index: number; ts: string; actor: string; action: string; outcome: string; code: string | null }

const product = (i: number) => ({ sku: `sku-${i}`, name: `Product ${i}`, price: { amount: 100 + i, currency: 'EUR' } });

describeEachBackend('filtered ledger reads (GET /v1/ledger/{t}/{s}/records?actor=&action=&outcome=&code=&since=&until=)', (backend) => {
  let h: Harness;
  let bob: Signer;
  let all: Rec[];
  const path = () => `/v1/ledger/${h.tenant}/commerce/records`;

  async function upsert(i: number, signer?: Signer, payload: Record<string, unknown> = product(i)) {
    const r = await h.post(h.sign('UpsertProduct', payload, { requestId: rid() }, signer));
    assert.ok(r.status < 500, r.raw);
  }

  /** Every record of a query, following `next` until it is null; also how many requests that took. */
  async function follow(query: string, limit = 1000): Promise<{ indexes: number[]; requests: number }> {
    const indexes: number[] = [];
    let from: number | null = 0;
    let requests = 0;
    while (from !== null) {
      const res = await h.get(`${path()}?from=${from}&limit=${limit}${query ? `&${query}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      requests++;
      indexes.push(...res.body.records.map((r: any) => r.index as number));
      assert.ok(res.body.next === null || res.body.next > from, 'next moves on');
      from = res.body.next;
    }
    return { indexes, requests };
  }

  const expect = (keep: (r: Rec) => boolean) => all.filter(keep).map((r) => r.index);

  before(async () => {
    h = await startHarness({ limits: { rate: 1_000_000 } } as never, { backend });
    bob = await h.actor('bob', []);
    // A mix at the start: the admin's applied commands, bob's refusals (no role), a bad payload.
    for (let i = 0; i < 3; i++) await upsert(i);
    for (let i = 0; i < 2; i++) await upsert(i, bob);
    await upsert(9, undefined, { sku: 'x' });
    // More than a scan window of the admin's records, then one of bob's at the very end.
    for (let i = 0; i < RECORD_SCAN_WINDOW + 100; i++) await upsert(100 + i);
    await upsert(7, bob);
    const records: Rec[] = [];
    let from: number | null = 0;
    while (from !== null) {
      const res = await h.get(`${path()}?from=${from}&limit=1000`);
      records.push(...res.body.records.map((r: any) => r.record as Rec));
      from = res.body.next;
    }
    all = records;
  });
  after(() => h.close());

  it('holds a log longer than the scan window, with bob refused and a bad payload among the admin records', () => {
    assert.ok(all.length > RECORD_SCAN_WINDOW + 100);
    assert.ok(all.some((r) => r.actor === 'bob' && r.code === 'FORBIDDEN'));
    assert.ok(all.some((r) => r.actor !== 'bob' && r.outcome === 'REJECTED'));
    assert.equal(all[all.length - 1].actor, 'bob');
  });

  it('finds the records of one actor, and only those, across the whole log', async () => {
    const got = await follow('actor=bob');
    assert.deepEqual(got.indexes, expect((r) => r.actor === 'bob'));
    assert.equal(got.indexes.length, 3);
  });

  it('filters by outcome, by code and by action', async () => {
    assert.deepEqual((await follow('outcome=REJECTED')).indexes, expect((r) => r.outcome === 'REJECTED'));
    assert.deepEqual((await follow('code=FORBIDDEN')).indexes, expect((r) => r.code === 'FORBIDDEN'));
    const action = all[0].action;
    assert.deepEqual((await follow(`action=${encodeURIComponent(action)}`)).indexes, expect((r) => r.action === action));
    assert.deepEqual((await follow('action=commerce.NoSuchAction')).indexes, []);
  });

  it('filters by time: since and until are inclusive RFC 3339 bounds', async () => {
    const mid = all[Math.floor(all.length / 2)].ts;
    const t = Date.parse(mid);
    assert.deepEqual((await follow(`since=${encodeURIComponent(mid)}`)).indexes, expect((r) => Date.parse(r.ts) >= t));
    assert.deepEqual((await follow(`until=${encodeURIComponent(mid)}`)).indexes, expect((r) => Date.parse(r.ts) <= t));
    // The same instant written with an offset selects the same records.
    const offset = new Date(t + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual((await follow(`since=${encodeURIComponent(offset)}`)).indexes, expect((r) => Date.parse(r.ts) >= t));
  });

  it('combines filters: every one must match', async () => {
    assert.deepEqual((await follow('actor=bob&outcome=REJECTED&code=FORBIDDEN')).indexes, expect((r) => r.actor === 'bob' && r.code === 'FORBIDDEN'));
    const admin = all[0].actor;
    const mid = all[3000].ts;
    const query = `actor=${encodeURIComponent(admin)}&outcome=OK&until=${encodeURIComponent(mid)}`;
    assert.deepEqual((await follow(query)).indexes, expect((r) => r.actor === admin && r.outcome === 'OK' && Date.parse(r.ts) <= Date.parse(mid)));
    assert.deepEqual((await follow('actor=bob&outcome=OK')).indexes, []);
  });

  it('scans at most a window of records per request: an empty page with next means read on', async () => {
    // From just after bob's early records: the window holds none of his, and says where it stopped.
    const from = Math.max(...expect((r) => r.actor === 'bob').slice(0, 2)) + 1;
    const first = await h.get(`${path()}?from=${from}&actor=bob`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.records, []);
    assert.equal(first.body.next, from + RECORD_SCAN_WINDOW);
    const second = await h.get(`${path()}?from=${first.body.next}&actor=bob`);
    assert.deepEqual(second.body.records.map((r: any) => r.index), [all.length - 1]);
    assert.equal(second.body.next, null);
    // The whole log took more than one request, one window each at most.
    const walk = await follow('actor=bob');
    assert.ok(walk.requests >= Math.ceil(all.length / RECORD_SCAN_WINDOW), `${walk.requests} requests`);
  });

  it('stops a filtered page at limit, and next continues right after its last record', async () => {
    const res = await h.get(`${path()}?from=0&limit=2&outcome=OK`);
    const ok = expect((r) => r.outcome === 'OK');
    assert.deepEqual(res.body.records.map((r: any) => r.index), ok.slice(0, 2));
    assert.equal(res.body.next, ok[1] + 1);
  });

  it('filters records read with their envelopes too, one envelope per matching record', async () => {
    const res = await h.get(`${path()}?actor=bob&envelopes=true&limit=1000`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.records.map((r: any) => r.index), expect((r) => r.actor === 'bob').slice(0, 2));
    for (const r of res.body.records) assert.equal((typeof r.envelope === 'string' ? JSON.parse(r.envelope) : r.envelope).actor, 'bob');
  });

  it('refuses bad filter values with INVALID_ENVELOPE naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['actor=bad%20actor', 'actor'],
      [`actor=${'a'.repeat(129)}`, 'actor'],
      ['actor=a&actor=b', 'actor'],
      ['action=not-an-action', 'action'],
      [`action=a${'b'.repeat(128)}`, 'action'],
      ['outcome=MAYBE', 'outcome'],
      ['code=forbidden', 'code'],
      [`code=${'A'.repeat(65)}`, 'code'],
      ['since=yesterday', 'since'],
      ['since=2026-02-30T00:00:00Z', 'since'],
      ['until=2026-01-01', 'until'],
      [`until=2026-01-01T00:00:00.${'1'.repeat(30)}Z`, 'until'],
    ];
    for (const [query, name] of cases) {
      const res = await h.get(`${path()}?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'INVALID_ENVELOPE', query);
      assert.match(res.body.message, new RegExp(`query parameter ${name} `), query);
    }
  });
});
