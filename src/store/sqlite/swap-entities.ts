import Database from 'better-sqlite3';
import type { EntityRow } from '../port.js';
import { STRIDE, toRows } from './batch-rows.js';
import type { WriterLock } from './writer-lock.js';

/** Rows inserted per statement run between progress reports. */
const REPORT_EVERY = 10_000;

/**
 * Replaces the whole entity state (every version of every entity) with `rows`, in one transaction:
 * a crash leaves the old state or the new one, never a mix. Only for a process that holds the
 * home's writer lock (`lock`, taken before the rows were computed, so no server wrote meanwhile).
 */
export function replaceEntityHistory(lock: WriterLock, path: string, rows: readonly EntityRow[], progress?: (done: number, total: number) => void): void {
  if (!lock.held) throw new Error('replacing the entity state needs the writer lock of the home');
  const db = new Database(path);
  try {
    db.pragma('synchronous = FULL');
    const insert = db.prepare('INSERT INTO entity_history (tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)');
    const flat = toRows({ entities: rows, records: [], outbox: [], outcomes: [], nonces: [] }).entities;
    db.transaction(() => {
      db.exec('DELETE FROM entity_history');
      for (let i = 0, n = 0; i < flat.length; i += STRIDE.entities, n++) {
        insert.run(flat.slice(i, i + STRIDE.entities));
        if (n % REPORT_EVERY === 0) progress?.(n, rows.length);
      }
    })();
    progress?.(rows.length, rows.length);
  } finally {
    db.close();
  }
}
