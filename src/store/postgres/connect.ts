import pg from 'pg';
import { WritError } from '../../core/errors.js';
import { redactUrl } from '../../util/redact-url.js';
import { StoreOpenError } from './errors.js';

/** Connections a process keeps for reads besides the writer's; a few suffice (reads are short). */
export const READ_POOL_SIZE = 8;
/** How long opening a connection may take before the store counts the server as unreachable. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * Indexes, sizes and timestamps are bigint columns; node-pg hands int8 over as a string because it
 * may pass 2^53. writ's never come near it (a log of 2^53 records), so they are read as numbers.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Checks that `url` is a postgres:// URL; returns it. */
export function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreOpenError('STORE_URL_INVALID', `the store URL ${JSON.stringify(redactUrl(url))} is not a URL; give postgres://user@host:5432/database`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreOpenError('STORE_URL_INVALID', `the store URL ${redactUrl(url)} is not a postgres:// URL; give postgres://user@host:5432/database (a SQLite store is set with store.path)`);
  }
  if (!parsed.hostname) throw new StoreOpenError('STORE_URL_INVALID', `the store URL ${redactUrl(url)} names no host; give postgres://user@host:5432/database`);
  return url;
}

/**
 * A pool of connections to `url`. Every session commits with synchronous_commit = on (a COMMIT
 * returns once its WAL is flushed to disk), whatever the server's default is.
 */
export function connectionConfig(url: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString: url,
    types,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: applicationName,
    options: '-c synchronous_commit=on',
  };
}

export function openPool(url: string, max: number, applicationName: string): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(url, applicationName), max });
  // An idle connection that dies (the server restarted) is dropped by the pool; without a listener
  // its error would end the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  return pool;
}

/** The connection error as a StoreOpenError that says what to do; other errors pass unchanged. */
export function explainConnectError(err: unknown, url: string): unknown {
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  const why = (e.message ?? String(err)).replaceAll(url, where);
  switch (e.code) {
    case '28P01':
    case '28000':
      return new StoreOpenError('STORE_UNREACHABLE', `PostgreSQL at ${where} refused the login (${why}); check the user and password (give the password through PGPASSWORD or ~/.pgpass, not in the URL)`, { cause: err });
    case '3D000':
      return new StoreOpenError('STORE_UNREACHABLE', `PostgreSQL at ${where}: ${why}; create it (createdb) or fix the database name in the URL`, { cause: err });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case '57P03':
      return new StoreOpenError('STORE_UNREACHABLE', `cannot reach PostgreSQL at ${where} (${e.code}: ${why}); check that the server runs and that the host and port in --store (or store.url) are right`, { cause: err });
  }
  if (/timeout/i.test(why)) {
    return new StoreOpenError('STORE_UNREACHABLE', `cannot reach PostgreSQL at ${where} (no answer within ${CONNECT_TIMEOUT_MS} ms); check that the server runs and that the host and port are right`, { cause: err });
  }
  return err;
}

/** What the server does with a COMMIT, checked at start: writ refuses a read-only database. */
export async function preflight(client: pg.PoolClient, url: string): Promise<{ durability: string }> {
  const { rows } = await client.query<{ standby: boolean; ro: string; fsync: string; sc: string; version: string }>(
    "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('server_version') AS version",
  );
  const s = rows[0]!;
  if (s.standby) throw new StoreOpenError('STORE_READ_ONLY', `PostgreSQL at ${redactUrl(url)} is a standby (read-only); point the store URL at the primary`);
  if (s.ro === 'on') {
    throw new StoreOpenError('STORE_READ_ONLY', `PostgreSQL at ${redactUrl(url)} is read-only (default_transaction_read_only = on for this user or database); let writ's user write (ALTER ROLE … SET default_transaction_read_only = off) or use another database`);
  }
  return { durability: `postgresql ${s.version} synchronous_commit=${s.sc} fsync=${s.fsync} (group commit, one transaction per batch)` };
}

/** PostgreSQL SQLSTATEs and socket errors that mean "the server is away", not "the query is wrong". */
const AWAY = /^(08...|57P0[123]|53300|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/** True when `err` says the database could not be reached (or went away during the query). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && AWAY.test(e.code)) return true;
  return typeof e?.message === 'string' && /Connection terminated|connection error|timeout exceeded when trying to connect|not queryable/i.test(e.message);
}

/**
 * A read that failed because the database is away, as the answer's UNAVAILABLE (503, Retry-After,
 * never recorded); any other failure passes unchanged.
 */
export function asUnavailable(err: unknown): unknown {
  if (!isConnectionError(err)) return err;
  return new WritError('UNAVAILABLE', 'the database cannot be reached right now; retry with the same requestId after Retry-After', { retryAfter: 1, cause: err });
}
