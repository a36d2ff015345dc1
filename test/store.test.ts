import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeRecord, encodeRecordGeneric, type LedgerRecord } from '../src/ledger/record.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { EntityRow } from '../src/store/port.js';

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

for (const fsync of ['group', 'full'] as const) {
  describe(`the SQLite store (fsync=${fsync})`, () => {
    it('makes committed entities visible to reads once durable, with history for point-in-time reads', async () => {
      const path = tempDb();
      const store = new SqliteStore({ path, fsync });
      const c1 = await store.transaction(async (tx) => tx.putEntity(row('a', 1, 0)));
      await c1.durable;
      const c2 = await store.transaction(async (tx) => tx.putEntity(row('a', 2, 5)));
      await c2.durable;
      assert.equal((await store.getEntity('t', 'thing', 'a'))?.version, 2);
      assert.equal((await store.getEntity('t', 'thing', 'a', 4))?.version, 1);
      assert.equal(await store.getEntity('t', 'thing', 'a', -1), null);
      await store.close();
    });

    it('rolls back a transaction whose function throws, leaving nothing behind', async () => {
      const store = new SqliteStore({ path: tempDb(), fsync });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putEntity(row('b', 1, 0));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.getEntity('t', 'thing', 'b'), null);
      const next = await store.transaction(async (tx) => tx.putEntity(row('c', 1, 1)));
      await next.durable;
      assert.equal((await store.getEntity('t', 'thing', 'c'))?.version, 1);
      await store.close();
    });

    it('keeps every commit across a reopen', async () => {
      const path = tempDb();
      let store = new SqliteStore({ path, fsync });
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        const c = await store.transaction(async (tx) => tx.putEntity(row(`k${i}`, 1, i)));
        pending.push(c.durable);
      }
      await Promise.all(pending);
      await store.close();
      store = new SqliteStore({ path, fsync });
      const all = await store.listEntities('t', 'thing', null, 1000);
      assert.equal(all.length, 50);
      await store.close();
    });
  });
}

describe('group fsync checkpoints', () => {
  it('checkpoints the WAL into the database once it passes the threshold, losing nothing', async () => {
    const path = tempDb();
    const store = new SqliteStore({ path, fsync: 'group', checkpointBytes: 256 * 1024 });
    for (let i = 0; i < 400; i++) {
      const c = await store.transaction(async (tx) => tx.putEntity(row(`cp${i}`, 1, i)));
      await c.durable;
    }
    assert.ok(store.checkpoints.count > 0, 'a checkpoint ran');
    assert.ok(statSync(`${path}-wal`).size < 4 * 256 * 1024, 'the WAL was truncated');
    await store.close();
    const reopened = new SqliteStore({ path, fsync: 'group' });
    assert.equal((await reopened.listEntities('t', 'thing', null, 1000)).length, 400);
    await reopened.close();
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
