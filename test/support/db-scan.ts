import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

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
