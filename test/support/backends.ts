import { randomBytes } from 'node:crypto';
import { describe, type SuiteContext } from 'node:test';
import pg from 'pg';

/**
 * The store backends the conformance suite runs on (STYLE §6: the same suite on SQLite and on a real
 * PostgreSQL). WRIT_TEST_BACKENDS picks them (default `sqlite,postgres`); PostgreSQL needs a server
 * at WRIT_TEST_PG_URL (.ci/pg-cluster starts a throw-away one). Without it the PostgreSQL suites are
 * skipped, loudly, except under CI=true, where they fail: a CI run must not pass on SQLite alone.
 */
export type Backend = 'sqlite' | 'postgres';

const PG_URL = process.env.WRIT_TEST_PG_URL;

export function backends(): Backend[] {
  const asked = (process.env.WRIT_TEST_BACKENDS ?? 'sqlite,postgres').split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of asked) if (b !== 'sqlite' && b !== 'postgres') throw new Error(`WRIT_TEST_BACKENDS names ${JSON.stringify(b)}; use sqlite, postgres or both (comma-separated)`);
  return asked as Backend[];
}

let warned = false;

/** Why the PostgreSQL suites cannot run here, or null when they can. */
function postgresMissing(): string | null {
  if (PG_URL) return null;
  return 'WRIT_TEST_PG_URL is not set: no PostgreSQL server to run the store suite on (start one with `eval "$(.ci/pg-cluster start)"`)';
}

/**
 * `describe(name, body)` once per backend, named `name (backend)`. A missing PostgreSQL skips its
 * suite with the reason on stderr, or fails it under CI=true.
 */
export function describeEachBackend(name: string, body: (backend: Backend, s: SuiteContext) => void | Promise<void>, only?: Backend): void {
  for (const backend of backends().filter((b) => !only || b === only)) {
    const missing = backend === 'postgres' ? postgresMissing() : null;
    if (missing && process.env.CI !== 'true') {
      if (!warned) process.stderr.write(`\n*** SKIPPING the PostgreSQL store suites: ${missing} ***\n\n`);
      warned = true;
      describe(`${name} (${backend})`, { skip: missing }, () => undefined);
      continue;
    }
    describe(`${name} (${backend})`, (s) => {
      if (missing) throw new Error(`CI=true and ${missing}`);
      return body(backend, s);
    });
  }
}

/** The URL of `database` on the test server. */
function urlOf(database: string): string {
  const u = new URL(PG_URL!);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new, empty database on the test server (tests stay independent); returns its URL. */
export async function freshDatabase(): Promise<string> {
  if (!PG_URL) throw new Error(postgresMissing()!);
  const name = `writ_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return urlOf(name);
}

/** Drops a database made by freshDatabase, closing any connection left to it. */
export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^writ_test_[0-9a-f]{12}$/.test(name)) throw new Error(`not a test database: ${name}`);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** A suite of what only the PostgreSQL store has (skipped or failed as describeEachBackend says). */
export function describePostgres(name: string, body: (s: SuiteContext) => void | Promise<void>): void {
  describeEachBackend(name, (_, s) => body(s), 'postgres');
}

/**
 * The options of a test that runs on SQLite only, because it reads SQLite's files or changes the
 * database behind writ's back with the SQLite driver; on another backend it is skipped, saying why.
 */
export function sqliteOnly(backend: Backend, why: string): { skip: string | false } {
  return { skip: backend === 'sqlite' ? false : `SQLite only: ${why}` };
}
