import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../src/config/config.js';
import { ZERO_HASH } from '../src/core/hash.js';
import { encodeRecord, RecordTooLarge } from '../src/ledger/record.js';
import { LogSequencer, type RecordDraft } from '../src/ledger/sequencer.js';
import { openStore, STORE_KINDS } from '../src/store/open-store.js';

const homes: string[] = [];
function home(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-roles-'));
  homes.push(dir);
  // The data folder, which openWrit creates before it opens the store.
  mkdirSync(join(dir, 'data'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
after(() => {
  for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});

function draft(tenant: string, scroll: string, requestId: string): RecordDraft {
  return { ts: '2026-01-01T00:00:00.000Z', tenant, scroll, actor: 'alice', action: 'demo.Do', requestId, commandHash: 'ab'.repeat(32), outcome: 'OK', code: null, target: 'thing/1', version: 1, resultHash: null };
}

describe('the store factory (store.kind)', () => {
  it('opens the SQLite store when the configuration names no kind', async () => {
    const config = loadConfig(home());
    assert.equal(config.store.kind, 'sqlite');
    const store = await openStore(config, { command: 'store-roles test' });
    try {
      assert.equal(store.dialect, 'sqlite');
      assert.deepEqual(await store.logHeads(), []);
    } finally {
      await store.close();
    }
  });

  it('refuses a config.json naming an unknown store kind, listing the kinds it knows', () => {
    assert.throws(
      () => loadConfig(home({ store: { kind: 'mongodb' } })),
      (err: unknown) => err instanceof ConfigError && /\/store\/kind/.test(err.message) && err.message.includes(STORE_KINDS.join(', ')),
    );
  });

  it('refuses to open a store of a kind it has no backend for, creating nothing', async () => {
    const base = loadConfig(home());
    const config = { ...base, store: { ...base.store, kind: 'mongodb' } } as unknown as Config;
    await assert.rejects(openStore(config), (err: unknown) => err instanceof ConfigError && err.message.includes('"mongodb"') && err.message.includes('use one of: sqlite'));
    assert.equal(existsSync(config.store.path), false, 'no database file was created');
  });
});

describe('the log sequencer', () => {
  it('gives each log dense indexes from 0, each record chained to the one before by prev', () => {
    const seq = new LogSequencer();
    const a0 = seq.next(draft('t1', 'writ', 'r1'));
    const b0 = seq.next(draft('t1', 'other', 'r2'));
    const a1 = seq.next(draft('t1', 'writ', 'r3'));
    assert.deepEqual([a0.record.index, b0.record.index, a1.record.index], [0, 0, 1]);
    assert.equal(a0.record.prev, ZERO_HASH);
    assert.equal(a1.record.prev, a0.row.leafHash);
    assert.equal(a1.row.leafHash, encodeRecord(a1.record).leafHash, 'the row holds the hash of the record it returns');
    assert.equal(seq.peek('t1', 'writ'), 2);
    assert.deepEqual(
      seq.heads().map((h) => [h.tenant, h.scroll, h.size, h.lastLeafHash]),
      [
        ['t1', 'writ', 2, a1.row.leafHash],
        ['t1', 'other', 1, b0.row.leafHash],
      ],
    );
  });

  it('leaves the head where it was when a record is too large to be a leaf', () => {
    const seq = new LogSequencer();
    const first = seq.next(draft('t1', 'writ', 'r1'));
    assert.throws(() => seq.next({ ...draft('t1', 'writ', 'r2'), target: 'x'.repeat(9000) }), RecordTooLarge);
    const next = seq.next(draft('t1', 'writ', 'r3'));
    assert.equal(next.record.index, 1);
    assert.equal(next.record.prev, first.row.leafHash);
  });

  it('forgets every head it placed on reload, continuing from the heads it is given', () => {
    const seq = new LogSequencer();
    seq.next(draft('t1', 'writ', 'r1'));
    seq.next(draft('t2', 'writ', 'r2'));
    const stored = { tenant: 't1', scroll: 'writ', size: 7, lastLeafHash: 'cd'.repeat(32) };
    seq.reload([stored]);
    assert.deepEqual(seq.heads(), [stored]);
    const placed = seq.next(draft('t1', 'writ', 'r3'));
    assert.equal(placed.record.index, 7);
    assert.equal(placed.record.prev, stored.lastLeafHash);
    assert.equal(seq.peek('t2', 'writ'), 0, 'a log it was not given starts empty');
  });

  it('loads the heads a store holds', async () => {
    const store = await openStore(loadConfig(home()), { command: 'store-roles test' });
    try {
      const seq = new LogSequencer();
      const { row } = seq.next(draft('t1', 'writ', 'r1'));
      await store.commit({ entities: [], records: [{ row, envelope: null }], outbox: [], outcomes: [], nonces: [] });
      const fresh = new LogSequencer();
      await fresh.load(store);
      assert.deepEqual(fresh.heads(), [{ tenant: 't1', scroll: 'writ', size: 1, lastLeafHash: row.leafHash }]);
    } finally {
      await store.close();
    }
  });
});
