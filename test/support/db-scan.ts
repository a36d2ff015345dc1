import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { verifyHome } from '../../src/transports/cli/verify-home.js';
import type { Harness } from './harness.js';

/** A JSON.stringify replacer writing blobs as latin1 text (it sees a Buffer's toJSON form, so it looks at the holder). */
function asText(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return Buffer.isBuffer(raw) ? raw.toString('latin1') : value;
}

/** Every row of every table of an SQLite database, as text (blobs as latin1), to search for a value. */
export function allRows(path: string): string {
  const d = new Database(path, { readonly: true });
  try {
    const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    return tables.map((t) => JSON.stringify(d.prepare(`SELECT * FROM "${t.name}"`).all(), asText)).join('\n');
  } finally {
    d.close();
  }
}

/**
 * Every row of every table of the store of `h`, as text, on either backend: the SQLite database's
 * (see allRows), or each table of the PostgreSQL database's public schema, bytea as latin1.
 */
export async function storedRows(h: Harness): Promise<string> {
  const { kind, path } = h.writ.config.store;
  if (kind === 'sqlite') return allRows(path);
  return onPostgres(h, async (c) => {
    const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows as Array<{ tablename: string }>;
    const dumps = [];
    for (const t of tables) dumps.push(JSON.stringify((await c.query(`SELECT * FROM "${t.tablename}"`)).rows, asText));
    return dumps.join('\n');
  });
}

/** The bytes the store of `h` takes: the SQLite database and WAL files, or the PostgreSQL database. */
export async function storeSize(h: Harness): Promise<number> {
  const { kind, path } = h.writ.config.store;
  if (kind === 'sqlite') return [path, `${path}-wal`].filter(existsSync).reduce((n, p) => n + statSync(p).size, 0);
  return onPostgres(h, async (c) => Number((await c.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n));
}

/** The `n` of a `SELECT COUNT(*) AS n …` on the store of `h` (SQL both backends read alike). */
export async function countRows(h: Harness, sql: string): Promise<number> {
  const { kind, path } = h.writ.config.store;
  if (kind === 'postgres') return onPostgres(h, async (c) => Number((await c.query(sql)).rows[0].n));
  const d = new Database(path, { readonly: true });
  try {
    return (d.prepare(sql).get() as { n: number }).n;
  } finally {
    d.close();
  }
}

async function onPostgres<T>(h: Harness, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: h.writ.config.store.url! });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The database file's bytes, and its WAL's if there is one. */
export function fileBytes(path: string): string {
  return [path, `${path}-wal`].filter(existsSync).map((p) => readFileSync(p).toString('latin1')).join('');
}

/**
 * Runs `sql` on the closed store of `h`, runs `writ verify`, undoes it and restarts writ; returns the
 * problems verify reported (the tamper cases of the redaction tests).
 */
export async function tamperedVerify(h: Harness, sql: string, undo: string, ...params: unknown[]): Promise<string[]> {
  await h.writ.close();
  const d = new Database(h.writ.config.store.path);
  try {
    assert.equal(d.prepare(sql).run(...params).changes, 1, sql);
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    return report.problems.map((p: { message: string }) => p.message);
  } finally {
    d.prepare(undo).run(...params);
    d.close();
    await h.restart();
  }
}
