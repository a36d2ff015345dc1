import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeRecord, encodeRecordGeneric, type LedgerRecord } from '../src/ledger/record.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { OutcomeCache } from '../src/pipeline/idempotency/outcome-cache.js';
import { KnownKeys } from '../src/pipeline/idempotency/known-keys.js';
import type { EntityRow, WriteBatch } from '../src/store/port.js';
import { describeEachBackend } from './support/backends.js';
import { openTestStore, type TestStore } from './support/stores.js';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-store-'));
  dirs.push(dir);
  return join(dir, 'writ.db');
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function row(id: string, version: number, index: number): EntityRow {
  return { tenant: 't', type: 'thing', id, version, doc: { id, pad: 'x'.repeat(2000) }, deleted: false, updatedAt: new Date(0).toISOString(), updatedBy: 'a', scroll: 's', index };
}

function batch(parts: Partial<WriteBatch>): WriteBatch {
  return { entities: [], records: [], outbox: [], outcomes: [], nonces: [], ...parts };
}

function record(index: number): WriteBatch['records'][number] {
  return { row: { tenant: 't', scroll: 's', index, leaf: Buffer.from(`{"index":${index}}`), leafHash: String(index).padStart(64, '0'), requestId: `req-${index}`, actor: 'a', commandHash: 'c'.repeat(64), outcome: 'OK', code: null }, envelope: '{}' };
}

describeEachBackend('the store', (backend) => {
  const stores: TestStore[] = [];
  const open = async () => {
    const t = await openTestStore(backend);
    stores.push(t);
    return t;
  };
  after(() => Promise.all(stores.map((t) => t.dispose())));

  it('makes committed entities visible to reads, with history for point-in-time reads', async () => {
    const { store } = await open();
    await store.commit(batch({ entities: [row('a', 1, 0)] }));
    await store.commit(batch({ entities: [row('a', 2, 5)] }));
    assert.equal((await store.getEntity('t', 'thing', 'a'))?.version, 2);
    assert.equal((await store.getEntity('t', 'thing', 'a', 4))?.version, 1);
    assert.equal(await store.getEntity('t', 'thing', 'a', -1), null);
  });

  it('applies batches submitted back to back in order, and keeps the first outcome of a key', async () => {
    const { store } = await open();
    const outcome = (response: string) => ({ tenant: 't', actor: 'a', requestId: 'req-1', commandHash: 'h'.repeat(64), sigDigest: null, httpStatus: 200, response, createdAt: 1, scroll: 's', index: 0 });
    await Promise.all([
      store.commit(batch({ records: [record(0)], outcomes: [outcome('first')] })),
      store.commit(batch({ records: [record(1)], outcomes: [outcome('second')] })),
      store.commit(batch({ records: [record(2)] })),
    ]);
    assert.deepEqual((await store.readLedger('t', 's', 0, 10)).map((r) => r.index), [0, 1, 2]);
    assert.equal((await store.getOutcome('t', 'a', 'req-1'))?.response, 'first');
    assert.deepEqual((await store.logHeads()).map((h) => [h.tenant, h.scroll, h.size, h.lastLeafHash]), [['t', 's', 3, record(2).row.leafHash]]);
  });

  it('rolls back a failing batch whole, refuses the batches after it until recover(), then goes on', async () => {
    const { store } = await open();
    await store.commit(batch({ records: [record(0)] }));
    // Index 0 again: the whole batch must vanish, entity included.
    const failing = store.commit(batch({ entities: [row('b', 1, 1)], records: [record(1), record(0)] }));
    const after = store.commit(batch({ records: [record(1)] }));
    await assert.rejects(failing, /UNIQUE|PRIMARY|duplicate key|not contiguous/);
    await assert.rejects(after, /refusing batches until recovery/);
    assert.equal(await store.getEntity('t', 'thing', 'b'), null);
    assert.equal((await store.readLedger('t', 's', 0, 10)).length, 1);
    await store.recover();
    await store.commit(batch({ records: [record(1)] }));
    assert.equal((await store.readLedger('t', 's', 0, 10)).length, 2);
  });

  it('keeps every commit across a reopen', async () => {
    const t = await open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => t.store.commit(batch({ entities: [row(`k${i}`, 1, i)] }))));
    const store = await t.reopen();
    assert.equal((await store.listEntities('t', 'thing', null, 1000)).length, 50);
  });

  it('prunes expired nonces and old outcomes in the writer', async () => {
    const { store } = await open();
    await store.commit(
      batch({
        nonces: [
          { tenant: 't', actor: 'a', nonce: 'old-nonce', commandHash: 'x', expiresAt: 10 },
          { tenant: 't', actor: 'a', nonce: 'new-nonce', commandHash: 'y', expiresAt: 10_000 },
        ],
        outcomes: [{ tenant: 't', actor: 'a', requestId: 'old-request', commandHash: 'h', sigDigest: null, httpStatus: 200, response: '{}', createdAt: 5, scroll: 's', index: 0 }],
      }),
    );
    assert.deepEqual(await store.prune(1000, 500), { nonces: 1, outcomes: 1 });
    assert.equal(await store.getNonce('t', 'a', 'old-nonce'), null);
    assert.equal((await store.getNonce('t', 'a', 'new-nonce'))?.commandHash, 'y');
    assert.equal(await store.getOutcome('t', 'a', 'old-request'), null);
  });
});

describe('the SQLite store', () => {
  it('reports WAL mode with synchronous=FULL', async () => {
    const store = new SqliteStore({ path: tempDb() });
    assert.match(store.durability, /synchronous=FULL/);
    await store.close();
  });

  it('refuses commits at once, with a reason, when the writer thread has died', async () => {
    const store = new SqliteStore({ path: tempDb() });
    await store.commit(batch({ records: [record(0)] }));
    await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(store.commit(batch({ records: [record(1)] })), /writer thread exited/);
    assert.equal((await store.readLedger('t', 's', 0, 10)).length, 1, 'reads still work');
    await store.close();
  });
});

describe('ledger record encoding', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  const record = fc.record({
    v: fc.constant(1 as const),
    index: fc.nat(),
    ts: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    tenant: text,
    scroll: text,
    actor: text,
    action: text,
    requestId: text,
    commandHash: hex,
    outcome: fc.constantFrom('OK' as const, 'REJECTED' as const),
    code: fc.option(text, { nil: null }),
    target: fc.option(text, { nil: null }),
    version: fc.option(fc.nat(), { nil: null }),
    resultHash: fc.option(hex, { nil: null }),
    prev: hex,
  });

  it('writes exactly the RFC 8785 bytes of the canonicalize library', () => {
    fc.assert(
      fc.property(record, (r: LedgerRecord) => {
        assert.deepEqual(encodeRecord(r).leaf, encodeRecordGeneric(r));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the outcome cache', () => {
  const outcome = (requestId: string, createdAt: number) => ({ tenant: 't', actor: 'a', requestId, commandHash: 'h', sigDigest: null, httpStatus: 200, response: '{}', createdAt, scroll: 's', index: 0 });

  it('answers from memory within the retention, forgets entries older than it, and stays bounded', () => {
    const cache = new OutcomeCache(1000, 3);
    cache.put(outcome('r1', 0), 0);
    assert.equal(cache.get('t', 'a', 'r1', 999)?.requestId, 'r1');
    assert.equal(cache.get('t', 'a', 'r1', 1000), undefined, 'expired at createdAt + retention');
    for (const id of ['r2', 'r3', 'r4', 'r5']) cache.put(outcome(id, 10), 10);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('t', 'a', 'r2', 20), undefined, 'the oldest entry went first');
    assert.equal(cache.get('t', 'a', 'r5', 20)?.requestId, 'r5');
    cache.put(outcome('stale', 0), 1000);
    assert.equal(cache.get('t', 'a', 'stale', 0), undefined, 'an outcome past the retention is not kept');
  });

  it('keeps the first outcome of a key, as the store does', () => {
    const cache = new OutcomeCache(1000);
    cache.put({ ...outcome('k', 0), response: 'first' }, 0);
    cache.put({ ...outcome('k', 0), response: 'second' }, 0);
    assert.equal(cache.get('t', 'a', 'k', 1)?.response, 'first');
  });
});

describe('the known-keys filter', () => {
  it('never says absent for a key it was given, and says absent for most others', () => {
    const known = new KnownKeys(1000, 0, 1 << 16);
    for (let i = 0; i < 2000; i++) known.add('t', 'a', `req-${i}`, 0);
    for (let i = 0; i < 2000; i++) assert.equal(known.mayContain('t', 'a', `req-${i}`, 0), true);
    let falsePositives = 0;
    for (let i = 0; i < 2000; i++) if (known.mayContain('t', 'a', `other-${i}`, 0)) falsePositives++;
    assert.ok(falsePositives < 100, `${falsePositives} false positives of 2000`);
  });

  it('keeps a key for at least one retention period and drops it after two', () => {
    const known = new KnownKeys(1000, 0, 1 << 16);
    known.add('t', 'a', 'old', 999);
    assert.equal(known.mayContain('t', 'a', 'old', 1500), true, 'one rotation later it is still there');
    assert.equal(known.mayContain('t', 'a', 'old', 2600), false, 'two rotations later it is gone');
  });
});
