import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { leafHashHex } from '../src/core/hash.js';
import { bytePage, pageJson, PAGE_CHUNK, type Page } from '../src/transports/http/byte-page.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leaves, product, registerKey } from './support/stage-helpers.js';
import { newSigner } from './support/harness.js';

/**
 * Abuse limits on reads (docs/security.md, "Abuse limits"): the public entry bundle never fails on
 * any stored record, and list routes stop a page at `limits.maxPageBytes`, giving `next`.
 */

const PAGE_BYTES = 64 * 1024;

/** Splits a C2SP entry bundle into its entries (big-endian uint16 length, then the bytes). */
function parseBundle(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    assert.ok(at + 2 <= bytes.length, 'a truncated length');
    const len = bytes.readUInt16BE(at);
    assert.ok(at + 2 + len <= bytes.length, 'a truncated entry');
    out.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

async function bundle(h: Harness, scroll: string): Promise<{ status: number; body: Buffer; json: any }> {
  const cpUrl = `/v1/logs/${h.tenant}/${scroll}/checkpoint`;
  const cp = await h.app.inject({ method: 'POST', url: cpUrl, headers: { authorization: h.readAuth('POST', cpUrl) } });
  assert.equal(cp.statusCode, 200, cp.body);
  const size = Number(cp.body.split('\n')[1]);
  const res = await h.app.inject({ method: 'GET', url: `/v1/logs/${h.tenant}/${scroll}/tile/entries/000${size % 256 === 0 ? '' : `.p/${size % 256}`}` });
  let json: any = null;
  try {
    json = JSON.parse(res.body);
  } catch {
    /* bytes */
  }
  return { status: res.statusCode, body: res.rawPayload, json };
}

/** Follows `next` from the first page; returns every page. */
async function pages(h: Harness, first: string, nextUrl: (next: unknown) => string): Promise<Array<{ raw: number; body: any }>> {
  const out = [];
  for (let url: string | null = first; url !== null; ) {
    const res: { statusCode: number; body: string } = await h.app.inject({ method: 'GET', url, headers: { authorization: h.readAuth('GET', url) } });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    const body = JSON.parse(res.body);
    out.push({ raw: Buffer.byteLength(res.body), body });
    url = body.next === null ? null : nextUrl(body.next);
    assert.ok(out.length < 500, 'next never ends');
  }
  return out;
}

describeEachBackend('abuse limits: the entry bundle', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ limits: { rate: 100_000, windowSeconds: 60, maxBuckets: 1000 } }, { backend });
  });
  after(() => h.close());

  it('answers 200 with entries that parse for a log holding the largest records writ accepts', async () => {
    const actor = `a${'c'.repeat(127)}`;
    const signer = newSigner('k-long');
    await registerKey(h, actor, signer);
    const longest = { action: 'A'.repeat(128), requestId: 'r'.repeat(128), target: `${'p'.repeat(64)}/${'\u0001'.repeat(448)}` };
    const max = await h.post(h.sign('Unknown', {}, { ...longest, actor }, signer));
    assertError(max, 'UNKNOWN_ACTION');
    // Once written as a 70 KB record, this broke the bundle for good; now it is refused at intake.
    await h.post(h.sign(`A${'x'.repeat(70_000)}`, {}));
    const got = await bundle(h, 'writ');
    assert.equal(got.status, 200, got.json ? JSON.stringify(got.json) : '');
    const entries = parseBundle(got.body);
    const stored = await h.writ.store.readLedger(h.tenant, 'writ', 0, entries.length);
    assert.deepEqual(entries.map((e) => leafHashHex(e)), stored.map((r) => r.leafHash));
    for (const e of entries) JSON.parse(e.toString('utf8'));
    assert.equal(JSON.parse(entries[max.body.receipt.index].toString('utf8')).action, longest.action);
  });

  it('answers a typed error, never 500, for a bundle holding a record stored before records were bounded', async () => {
    const leaf = Buffer.from(JSON.stringify({ v: 1, action: 'A'.repeat(70_000) }));
    const row = { tenant: h.tenant, scroll: 'legacy', index: 0, leaf, leafHash: leafHashHex(leaf), requestId: 'legacy-0001', actor: 'admin', commandHash: '0'.repeat(64), outcome: 'REJECTED', code: 'UNKNOWN_ACTION' };
    await h.writ.store.commit({ entities: [], records: [{ row, envelope: null }], outbox: [], outcomes: [], nonces: [] });
    h.writ.integrator.noteDurable(h.tenant, 'legacy', 1);
    const got = await bundle(h, 'legacy');
    assert.notEqual(got.status, 500);
    assert.equal(got.json?.code, 'NOT_FOUND', JSON.stringify(got.json));
    assert.match(got.json.message, /65535|65,535/);
  });
});

describeEachBackend('abuse limits: list pages bounded by bytes', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ limits: { rate: 100_000, windowSeconds: 60, maxBuckets: 1000, maxPageBytes: PAGE_BYTES } }, { backend });
    for (let i = 0; i < 12; i++) await h.post(h.sign('Bulk', { blob: 'b'.repeat(20_000), i }));
    await h.post(h.sign('Bulk', { blob: 'b'.repeat(150_000) }));
    for (let i = 0; i < 20; i++) assertOk(await h.post(h.sign('UpsertProduct', { ...product(`p-${String(i).padStart(2, '0')}`), description: 'd'.repeat(8000) })));
  });
  after(() => h.close());

  it('stops a records page with envelopes at limits.maxPageBytes, and next continues exactly where it stopped', async () => {
    const all = await leaves(h, 'writ');
    const got = await pages(h, `/v1/ledger/${h.tenant}/writ/records?envelopes=true&limit=1000`, (next) => `/v1/ledger/${h.tenant}/writ/records?envelopes=true&limit=1000&from=${String(next)}`);
    assert.ok(got.length > 3, `${got.length} pages`);
    for (const p of got) {
      const one = p.body.records.length === 1;
      assert.ok(one || p.raw <= PAGE_BYTES + 1024, `a page of ${p.body.records.length} records is ${p.raw} bytes`);
      if (p.body.next !== null) assert.equal(p.body.next, p.body.records.at(-1).index + 1);
    }
    assert.deepEqual(got.flatMap((p) => p.body.records.map((r: any) => r.index)), all.map((_, i) => i));
    const big = got.find((p) => p.body.records.some((r: any) => r.envelope?.includes('b'.repeat(150_000))));
    assert.ok(big && big.body.records.length === 1, 'a record larger than the budget comes alone');
  });

  it('stops an entities page at limits.maxPageBytes, and next continues exactly where it stopped', async () => {
    const got = await pages(h, `/v1/entities/${h.tenant}/product?limit=1000`, (next) => `/v1/entities/${h.tenant}/product?limit=1000&after=${String(next)}`);
    assert.ok(got.length > 1);
    for (const p of got) assert.ok(p.raw <= PAGE_BYTES + 1024, `${p.raw} bytes`);
    assert.deepEqual(got.flatMap((p) => p.body.items.map((e: any) => e.id)), Array.from({ length: 20 }, (_, i) => `p-${String(i).padStart(2, '0')}`));
  });

  it('stops an outbox page at limits.maxPageBytes, and next continues exactly where it stopped', async () => {
    const got = await pages(h, '/v1/outbox/events?limit=1000', (next) => `/v1/outbox/events?limit=1000&after=${String(next)}`);
    assert.ok(got.length > 1);
    for (const p of got) assert.ok(p.raw <= PAGE_BYTES + 1024, `${p.raw} bytes`);
    const seqs = got.flatMap((p) => p.body.items.map((e: any) => e.seq));
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    assert.equal(seqs.length, got[0].body.head);
  });

  it('refuses a limits.maxPageBytes outside 16 KiB to 64 MiB when the configuration is loaded', () => {
    for (const maxPageBytes of [1024, 128 * 1024 * 1024]) {
      assert.throws(() => loadConfig(h.home, { limits: { maxPageBytes } }), (err: unknown) => err instanceof ConfigError && /maxPageBytes/.test(err.message));
    }
    assert.equal(loadConfig(h.home, { limits: { maxPageBytes: 16 * 1024 } }).limits.maxPageBytes, 16 * 1024);
  });

  it('keeps the limit parameter: a page never holds more than limit items', async () => {
    const res = await h.get(`/v1/ledger/${h.tenant}/commerce/records?limit=3`);
    assert.equal(res.body.records.length, 3);
    assert.equal(res.body.next, 3);
  });
});

describe('bytePage, the byte-bounded page of every list route', () => {
  // A list of 300 items, some of them large, read by index; `reads` records the size of every read.
  const sizes = Array.from({ length: 300 }, (_, i) => (i % 37 === 0 ? 90_000 : i % 5 === 0 ? 20_000 : 100));
  const reads: number[] = [];
  const reader = (list: readonly number[]) => async (at: number, n: number) => {
    reads.push(n);
    const items = list.slice(at, at + n).map((size, k) => ({ value: { i: at + k, pad: 'x'.repeat(size) }, cursor: at + k + 1 }));
    return { items, next: at + n >= list.length ? null : at + n };
  };
  const read = reader(sizes);

  it('gives every item exactly once across pages, each page within the budget unless it is one item', async () => {
    const seen: number[] = [];
    for (let from: number | null = 0; from !== null; ) {
      const page: Page<number> = await bytePage(from, 1000, 64 * 1024, read);
      const bytes = page.texts.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
      assert.ok(page.texts.length === 1 || bytes <= 64 * 1024, `${page.texts.length} items, ${bytes} bytes`);
      assert.ok(page.texts.length >= 1);
      seen.push(...page.texts.map((t) => JSON.parse(t).i as number));
      from = page.next;
    }
    assert.deepEqual(seen, sizes.map((_, i) => i));
  });

  it('reads fewer rows at a time once the rows prove large', async () => {
    reads.length = 0;
    await bytePage(0, 1000, 16 * 1024 * 1024, reader(Array(100).fill(60_000)));
    // 16 rows of 60 KB: the next reads aim at 256 KiB, four rows.
    assert.deepEqual(reads.slice(0, 3), [PAGE_CHUNK, 4, 4]);
  });

  it('stops at limit items and names the cursor after the last one', async () => {
    const page = await bytePage(10, 3, 1024 * 1024, read);
    assert.deepEqual(page.texts.map((t) => JSON.parse(t).i), [10, 11, 12]);
    assert.equal(page.next, 13);
    assert.deepEqual(JSON.parse(pageJson({ log: 'l' }, 'records', page)), { log: 'l', records: page.texts.map((t) => JSON.parse(t)), next: 13 });
  });
});
