import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/config.js';
import { verifyHome } from '../../src/transports/cli/verify-home.js';
import type { Harness } from './harness.js';

/** Every row of every table of an SQLite database, as text (blobs as latin1), to search for a value. */
export function allRows(path: string): string {
  const d = new Database(path, { readonly: true });
  try {
    const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    return tables.map((t) => JSON.stringify(d.prepare(`SELECT * FROM "${t.name}"`).all(), (_, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))).join('\n');
  } finally {
    d.close();
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
