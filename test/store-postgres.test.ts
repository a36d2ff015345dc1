import { strict as assert } from 'node:assert';
import { after, it } from 'node:test';
import pg from 'pg';
import { StoreOpenError } from '../src/store/postgres/errors.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SCHEMA_VERSION } from '../src/store/postgres/schema.js';
import type { WriteBatch } from '../src/store/port.js';
import { describePostgres, dropDatabase, freshDatabase } from './support/backends.js';

/** What only the PostgreSQL store has: migrations, start-up refusals, and a database shared by processes. */
describePostgres('the PostgreSQL store', () => {
  const databases: string[] = [];
  const fresh = async () => {
    const url = await freshDatabase();
    databases.push(url);
    return url;
  };
  after(() => Promise.all(databases.map(dropDatabase)));
  const sql = async (url: string, text: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };
  const record = (index: number): WriteBatch['records'][number] => ({
    row: { tenant: 't', scroll: 's', index, leaf: Buffer.from(`{"index":${index}}`), leafHash: String(index).padStart(64, '0'), requestId: `req-${index}`, actor: 'a', commandHash: 'c'.repeat(64), outcome: 'OK', code: null },
    envelope: '{}',
  });
  const batch = (parts: Partial<WriteBatch>): WriteBatch => ({ entities: [], records: [], outbox: [], outcomes: [], nonces: [], ...parts });

  it('migrates a new database, records each migration, and names its durability settings', async () => {
    const url = await fresh();
    const store = await PostgresStore.open({ url });
    assert.deepEqual([store.migration.from, store.migration.to], [0, SCHEMA_VERSION]);
    assert.match(store.durability, /synchronous_commit=on fsync=on/);
    await store.close();
    const again = await PostgresStore.open({ url });
    assert.deepEqual(again.migration.applied, [], 'a migrated database is left as it is');
    await again.close();
    assert.deepEqual((await sql(url, 'SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('refuses a database migrated by a newer writ, saying to upgrade', async () => {
    const url = await fresh();
    await (await PostgresStore.open({ url })).close();
    await sql(url, `INSERT INTO schema_migrations (version, name) VALUES (${SCHEMA_VERSION + 1}, 'from the future')`);
    await assert.rejects(PostgresStore.open({ url }), (err: unknown) => err instanceof StoreOpenError && err.code === 'STORE_SCHEMA_NEWER' && /newer than this writ/.test(err.message));
  });

  it('refuses a read-only database at start, saying what to change', async () => {
    const url = await fresh();
    const name = new URL(url).pathname.slice(1);
    await sql(url, `ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await assert.rejects(PostgresStore.open({ url }), (err: unknown) => err instanceof StoreOpenError && err.code === 'STORE_READ_ONLY' && /default_transaction_read_only/.test(err.message));
  });

  it('refuses bad connection strings with what to do, and never shows a password', async () => {
    const base = new URL(process.env.WRIT_TEST_PG_URL!);
    const cases: Array<[string, string, RegExp]> = [
      ['mysql://u:hunter2@127.0.0.1/db', 'STORE_URL_INVALID', /not a postgres:\/\/ URL/],
      ['not a url', 'STORE_URL_INVALID', /is not a URL/],
      [`postgres://u:hunter2@127.0.0.1:1/db`, 'STORE_UNREACHABLE', /cannot reach PostgreSQL .*check that the server runs/],
      [`postgres://${base.username}:hunter2@${base.host}/writ_test_missing`, 'STORE_UNREACHABLE', /does not exist; create it/],
    ];
    for (const [url, code, message] of cases) {
      await assert.rejects(PostgresStore.open({ url }), (err: unknown) => {
        assert.ok(err instanceof StoreOpenError, String(err));
        assert.equal(err.code, code, err.message);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    }
  });

  it('refuses, in the database, a batch planned on a log head another process has moved', async () => {
    const url = await fresh();
    const one = await PostgresStore.open({ url });
    const two = await PostgresStore.open({ url });
    await one.commit(batch({ records: [record(0)] }));
    // The second process still believes the log is empty: its record 0 would be a duplicate, a record 2 a gap.
    await assert.rejects(two.commit(batch({ records: [record(0)] })), /another writer appended|duplicate key/);
    await two.recover();
    await assert.rejects(two.commit(batch({ records: [record(2)] })), /another writer appended/);
    await two.recover();
    await two.commit(batch({ records: [record(1)] }));
    assert.deepEqual((await one.readLedger('t', 's', 0, 10)).map((r) => r.index), [0, 1]);
    await Promise.all([one.close(), two.close()]);
  });
});
