import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, it } from 'node:test';
import pg from 'pg';
import type { OutboxConfig } from '../src/config/config.js';
import { Dispatcher } from '../src/outbox/dispatcher.js';
import { leaseDispatcher } from '../src/outbox/leased.js';
import type { Sink } from '../src/outbox/sink.js';
import type { Lease } from '../src/store/shared.js';
import type { OutboxProgress } from '../src/store/port.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { describePostgres, dropDatabase, freshDatabase } from './support/backends.js';
import { waitUntil } from './support/outbox.js';
import { leaseHolder } from './support/pg-processes.js';

/**
 * The outbox lease handed over between two stores (two processes) on one database: a dispatcher that
 * takes the lease over starts from the cursor its predecessor persisted last, and a predecessor that
 * lost the lease moves no cursor after the takeover, not even with a write that passed its check
 * before the lease was lost and committed after, nor with the last flush of the dispatcher it closes
 * on losing the lease once it has taken the lease back.
 */
const progress = (cursor: number): OutboxProgress => ({ cursors: [{ sink: 'hook', cursor }], dead: [], resolved: [], deliveries: [], disabled: [], keep: 100, at: new Date().toISOString() });

describePostgres('the outbox lease handed over between processes', () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;
  let admin: pg.Client;
  /** A connection holding row locks that keep A's writer waiting; ended first after each test, so a failure cannot hang the stores' close. */
  let blocker: pg.Client | null = null;

  // Each test on a database of its own, with two stores that have not taken any lease yet.
  beforeEach(async () => {
    url = await freshDatabase();
    // Distinct names: pg_stat_activity tells the two stores' connections apart.
    a = await PostgresStore.open({ url, command: 'store-a' });
    b = await PostgresStore.open({ url, command: 'store-b' });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterEach(async () => {
    await blocker?.end().catch(() => undefined);
    blocker = null;
    await admin?.end();
    await a?.close();
    await b?.close();
    if (url) await dropDatabase(url);
  });

  const cursorInDatabase = async () => (await admin.query<{ cursor: string }>("SELECT cursor FROM outbox_sinks WHERE sink = 'hook'")).rows.map((r) => Number(r.cursor))[0];
  /** The backend of a store's connection whose application_name ends with `suffix`, and what it waits for. */
  const backend = async (store: string, suffix: string) =>
    (await admin.query<{ pid: number; wait: string | null }>('SELECT pid, wait_event_type AS wait FROM pg_stat_activity WHERE application_name LIKE $1', [`${store} pid % (${suffix})`])).rows[0];

  /** Breaks A's lease connection (a network cut), again at each reconnection, until B's lease connection holds the outbox lock. */
  const cutUntilBHolds = () =>
    waitUntil(async () => {
      const c = await backend('store-a', 'outbox');
      if (c) await admin.query('SELECT pg_terminate_backend($1)', [c.pid]);
      return /^store-b /.test((await leaseHolder(url, 'outbox')) ?? '');
    }, "B's lease connection holds the outbox lock");

  /** An outbox event of its own entity, straight into the table (as a commit writes it). */
  const insertEvent = (seq: number) =>
    admin.query("INSERT INTO outbox (seq, id, tenant, scroll, idx, action, target, version, type, data, ts) VALUES ($1, $2, 'acme', 'commerce', $1, 'UpsertProduct', $3, 1, 'product.upserted', '{}', '2026-12-05T00:00:00.000Z')", [seq, `event-${seq}`, `product/p${seq}`]);

  /** The outbox config of a dispatcher with one sink, `hook`. */
  const outboxConfig = (flushMs: number): OutboxConfig => ({ enabled: true, pollMs: 50, flushMs, maxAttempts: 1000, backoffBaseMs: 20, backoffCapMs: 200, deliveryLogKeep: 100, sinks: [{ name: 'hook', kind: 'ndjson', path: '', fsync: 'never', filter: {}, maxAttempts: 1000 }] });

  /** Keeps A's writer busy (a redrive waiting for a dead letter locked by `blocker`) until the blocker commits; returns the redrive (wrapped: awaiting it would wait for the commit). */
  async function blockWriterOfA(): Promise<{ redrive: Promise<number> }> {
    await admin.query("INSERT INTO outbox_dead (sink, seq, event_id, attempts, last_error, dead_at, redrive) VALUES ('other', 1, 'event-1', 1, 'x', 'now', false)");
    blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query("BEGIN; SELECT * FROM outbox_dead WHERE sink = 'other' FOR UPDATE");
    const redrive = a.requestRedrive('other', null);
    await waitUntil(async () => (await backend('store-a', 'writer'))?.wait === 'Lock', "A's writer waits");
    return { redrive };
  }

  it('lets a lost holder write nothing after the takeover: the successor starts from the cursor the database ends with', async () => {
    const leaseA: Lease = a.lease('outbox');
    await leaseA.ready();
    assert.ok(leaseA.held(), 'the first store takes the free lease');
    const leaseB = b.lease('outbox');
    await leaseB.ready();
    assert.ok(!leaseB.held(), 'the second store waits');
    await a.saveOutboxProgress(progress(5));

    // A's next flush passes its lease check, then waits on the sink's row (locked here) ...
    blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query("BEGIN; SELECT * FROM outbox_sinks WHERE sink = 'hook' FOR UPDATE");
    const late = a.saveOutboxProgress(progress(9)).then(
      () => 'written',
      (err: Error) => `refused: ${err.message}`,
    );
    await waitUntil(async () => (await backend('store-a', 'writer'))?.wait === 'Lock', "A's flush waits for the sink's row");
    // ... while A's lease connection breaks (a network cut) until B holds the lock.
    await cutUntilBHolds();
    await waitUntil(() => !leaseA.held(), 'A notices it lost the lease');
    await blocker.query('COMMIT');
    await waitUntil(() => leaseB.held(), 'B takes the lease over');
    // What a dispatcher opened now would start from (Dispatcher.open reads the sink states).
    const start = (await b.sinkStates()).find((s) => s.sink === 'hook')!.cursor;
    const outcome = await late;
    assert.equal(await cursorInDatabase(), start, `B started from ${start}, but A's late flush (${outcome}) left ${await cursorInDatabase()} in the database`);

    // Once B holds the lease, every write of A is refused and changes nothing.
    await assert.rejects(a.saveOutboxProgress(progress(3)), /not the outbox dispatcher/);
    assert.equal(await cursorInDatabase(), start);
    await b.saveOutboxProgress(progress(start + 1));
    assert.equal(await cursorInDatabase(), start + 1);
  });

  it('never flushes the dispatcher it closes on losing the lease: taking the lease back, it starts from the cursor its successor persisted', async () => {
    // Five events; the sink takes events 1 and 2 and keeps event 3 in flight, so A's cursor is 2, unflushed.
    for (let seq = 1; seq <= 5; seq++) await insertEvent(seq);
    const sent: number[] = [];
    const sink: Sink = { kind: 'ndjson', concurrency: 8, deliver: (row) => (sent.push(row.seq), row.seq === 3 ? new Promise(() => undefined) : Promise.resolve({ ok: true })), close: async () => undefined };
    // No periodic flush while the test runs: only a dispatcher's last flush, on close, writes A's cursor.
    const config = outboxConfig(60_000);
    const leaseA = a.lease('outbox');
    await leaseA.ready();
    let current: Dispatcher | null = null;
    const following = leaseDispatcher(leaseA, () => Dispatcher.open({ store: a, config, now: Date.now, open: () => sink }), (d) => (current = d));
    try {
      await waitUntil(() => current?.runners[0]!.cursor === 2, "A's dispatcher delivered events 1 and 2");
      const first = current!;

      // A's writer is kept busy (a redrive waiting for a locked dead letter), so the last flush of
      // the dispatcher it closes waits too, until A holds the lease again.
      const { redrive } = await blockWriterOfA();

      const leaseB = b.lease('outbox');
      await cutUntilBHolds();
      await waitUntil(() => current === null, 'A closes its dispatcher on losing the lease');
      await waitUntil(() => leaseB.held(), 'B takes the lease over');
      // B delivers events 1 to 5 and persists its cursor, then gives the lease up: A takes it back.
      await b.saveOutboxProgress(progress(5));
      await leaseB.close();
      await waitUntil(() => leaseA.held(), 'A takes the lease back');

      await blocker!.query('COMMIT');
      await redrive;
      await waitUntil(() => current !== null && current !== first, 'A opens a new dispatcher');
      assert.equal(await cursorInDatabase(), 5, "the old dispatcher's cursor (2) overwrote its successor's (5)");
      assert.equal(current!.runners[0]!.cursor, 5, 'the new dispatcher starts from the persisted cursor');
    } finally {
      await blocker?.end().catch(() => undefined);
      blocker = null;
      await following.close();
    }
  });

  it('refuses a flush of the old dispatcher that was on its way when the lease was lost and runs once the lease is taken back', async () => {
    for (let seq = 1; seq <= 5; seq++) await insertEvent(seq);
    const sink: Sink = { kind: 'ndjson', concurrency: 8, deliver: (row) => (row.seq === 3 ? new Promise(() => undefined) : Promise.resolve({ ok: true })), close: async () => undefined };
    const leaseA = a.lease('outbox');
    await leaseA.ready();
    assert.ok(leaseA.held(), 'the first store takes the free lease');
    // B's lease starts only now: started together, either store's first try may take the free lock.
    const leaseB = b.lease('outbox');
    await leaseB.ready();
    assert.ok(!leaseB.held(), 'the second store waits');
    // A's writer waits (a redrive of a locked dead letter) before A's dispatcher flushes for the first time.
    const { redrive } = await blockWriterOfA();
    let current: Dispatcher | null = null;
    const following = leaseDispatcher(leaseA, (term) => Dispatcher.open({ store: a, config: outboxConfig(50), now: Date.now, open: () => sink, term }), (d) => (current = d));
    try {
      await waitUntil(() => current?.runners[0]!.cursor === 2, "A's dispatcher delivered events 1 and 2");
      const first = current!;
      // Its periodic flush (every 50 ms) took cursor 2 and waits behind the redrive.
      await new Promise((r) => setTimeout(r, 300));
      await cutUntilBHolds();
      await waitUntil(() => leaseB.held(), 'B takes the lease over');
      await b.saveOutboxProgress(progress(5));
      await leaseB.close();
      await waitUntil(() => leaseA.held(), 'A takes the lease back');
      await blocker!.query('COMMIT');
      await redrive;
      await first.flush().catch(() => undefined);
      assert.equal(await cursorInDatabase(), 5, "a flush of the dispatcher A ran before it lost the lease wrote A's old cursor (2) over B's (5)");
    } finally {
      await blocker?.end().catch(() => undefined);
      blocker = null;
      await following.close();
    }
  });
});
