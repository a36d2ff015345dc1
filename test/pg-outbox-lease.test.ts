import { strict as assert } from 'node:assert';
import { after, before, it } from 'node:test';
import pg from 'pg';
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
 * before the lease was lost and committed after.
 */
const progress = (cursor: number): OutboxProgress => ({ cursors: [{ sink: 'hook', cursor }], dead: [], resolved: [], deliveries: [], disabled: [], keep: 100, at: new Date().toISOString() });

describePostgres('the outbox lease handed over between processes', () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;
  let admin: pg.Client;

  before(async () => {
    url = await freshDatabase();
    // Distinct names: pg_stat_activity tells the two stores' connections apart.
    a = await PostgresStore.open({ url, command: 'store-a' });
    b = await PostgresStore.open({ url, command: 'store-b' });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await a?.close();
    await b?.close();
    if (url) await dropDatabase(url);
  });

  const cursorInDatabase = async () => (await admin.query<{ cursor: string }>("SELECT cursor FROM outbox_sinks WHERE sink = 'hook'")).rows.map((r) => Number(r.cursor))[0];
  /** The backend of a store's connection whose application_name ends with `suffix`, and what it waits for. */
  const backend = async (store: string, suffix: string) =>
    (await admin.query<{ pid: number; wait: string | null }>('SELECT pid, wait_event_type AS wait FROM pg_stat_activity WHERE application_name LIKE $1', [`${store} pid % (${suffix})`])).rows[0];

  it('lets a lost holder write nothing after the takeover: the successor starts from the cursor the database ends with', async () => {
    const leaseA: Lease = a.lease('outbox');
    await leaseA.ready();
    assert.ok(leaseA.held(), 'the first store takes the free lease');
    const leaseB = b.lease('outbox');
    await leaseB.ready();
    assert.ok(!leaseB.held(), 'the second store waits');
    await a.saveOutboxProgress(progress(5));

    // A's next flush passes its lease check, then waits on the sink's row (locked here) ...
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query("BEGIN; SELECT * FROM outbox_sinks WHERE sink = 'hook' FOR UPDATE");
    const late = a.saveOutboxProgress(progress(9)).then(
      () => 'written',
      (err: Error) => `refused: ${err.message}`,
    );
    await waitUntil(async () => (await backend('store-a', 'writer'))?.wait === 'Lock', "A's flush waits for the sink's row");
    // ... while A's lease connection breaks (a network cut, again at each reconnection) until B holds the lock.
    const cut = async () => {
      const c = await backend('store-a', 'outbox');
      if (c) await admin.query('SELECT pg_terminate_backend($1)', [c.pid]);
    };
    await waitUntil(async () => {
      await cut();
      return /^store-b /.test((await leaseHolder(url, 'outbox')) ?? '');
    }, "B's lease connection holds the outbox lock");
    await waitUntil(() => !leaseA.held(), 'A notices it lost the lease');
    await blocker.query('COMMIT');
    await blocker.end();
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
});
