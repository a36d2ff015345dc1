import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * Runs `VACUUM INTO` off the caller's event loop (it blocks its thread for the whole copy), so the
 * caller can draw progress meanwhile. Posts `{ ok: true }` or `{ ok: false, error }` when done.
 */
const { source, dest } = workerData as { source: string; dest: string };
try {
  // Opened without writing anything: no pragmas, no schema. Only reads run on this connection.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(dest);
  } finally {
    db.close();
  }
  parentPort?.postMessage({ ok: true });
} catch (err) {
  parentPort?.postMessage({ ok: false, error: (err as Error).message });
}
