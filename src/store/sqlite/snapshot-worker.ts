import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** Messages of the snapshot thread: the size to expect, then the outcome. */
export type SnapshotMessage = { readonly total: number } | { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Runs `VACUUM INTO` off the caller's event loop (it blocks its thread for the whole copy), so the
 * caller can draw progress meanwhile. Nothing is written to the source: no pragma that persists,
 * no schema; only reads run on this connection.
 */
const { source, dest } = workerData as { source: string; dest: string };
const post = (m: SnapshotMessage) => parentPort?.postMessage(m);
try {
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // Pages × page size, WAL content included: about what the copy will hold.
    post({ total: Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true })) });
    db.prepare('VACUUM INTO ?').run(dest);
  } finally {
    db.close();
  }
  post({ ok: true });
} catch (err) {
  post({ ok: false, error: (err as Error).message });
}
