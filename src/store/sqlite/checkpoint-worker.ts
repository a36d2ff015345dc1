import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** Worker side of Checkpointer: one connection, synchronous=FULL, PASSIVE checkpoints on request. */
const db = new Database((workerData as { path: string }).path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
parentPort?.on('message', () => {
  let result: unknown;
  try {
    result = db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    result = { error: (err as Error).message };
  }
  parentPort?.postMessage(result);
});
