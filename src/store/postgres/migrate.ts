import type pg from 'pg';
import { redactUrl } from '../../util/redact-url.js';
import { StoreOpenError } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

/** Advisory lock key of migrations: two processes starting at once migrate one after the other. */
const MIGRATE_LOCK = 0x77726974_01; // "writ", 1

export interface MigrationResult {
  /** Schema version before, and after. */
  readonly from: number;
  readonly to: number;
  readonly applied: ReadonlyArray<{ readonly version: number; readonly name: string }>;
}

async function currentVersion(client: pg.PoolClient): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (exists.rows[0]?.t === null) return 0;
  const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return rows[0]?.v ?? 0;
}

/**
 * Brings the database to SCHEMA_VERSION, each migration in a transaction of its own, recorded in
 * `schema_migrations`; with `apply` false only checks. Refuses a database of a newer writ (its
 * tables may mean things this writ does not know) and, without `apply`, one that is older.
 */
export async function migrate(client: pg.PoolClient, url: string, apply: boolean): Promise<MigrationResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
  try {
    const from = await currentVersion(client);
    if (from > SCHEMA_VERSION) {
      throw new StoreOpenError('STORE_SCHEMA_NEWER', `the database at ${redactUrl(url)} has schema version ${from}, newer than this writ knows (${SCHEMA_VERSION}); run a writ at least as new as the one that migrated it`);
    }
    if (from < SCHEMA_VERSION && !apply) {
      throw new StoreOpenError('STORE_SCHEMA_OLDER', `the database at ${redactUrl(url)} has schema version ${from}, older than this writ's (${SCHEMA_VERSION}); run \`writ migrate --store <url>\` first`);
    }
    const applied: Array<{ version: number; name: string }> = [];
    for (const m of MIGRATIONS.filter((m) => m.version > from)) {
      await client.query('BEGIN');
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      applied.push({ version: m.version, name: m.name });
    }
    return { from, to: SCHEMA_VERSION, applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
  }
}
