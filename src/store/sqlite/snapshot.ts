import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SnapshotMessage } from './snapshot-worker.js';
import { createPrivateFile } from './writer-lock.js';

/** How often the copy's size is looked at for progress. */
const PROGRESS_EVERY_MS = 250;

/**
 * Copies a live database to `dest` as one consistent snapshot, beside a running writer: `VACUUM
 * INTO` reads the whole database inside one read transaction, so the copy holds exactly the
 * transactions committed when it began. In WAL mode a reader never blocks the writer (the writer
 * only keeps appending to the WAL until the read ends), and no writer lock is taken.
 *
 * The online backup API (better-sqlite3's `db.backup()`) is not used: copying in steps, it starts
 * over whenever another connection writes between two steps, so under steady load it may never end.
 * `dest` MUST NOT exist or be empty; it is created 0600 (it holds everything the database holds).
 */
export async function snapshotDatabase(source: string, dest: string, progress: (done: number, total: number) => void = () => undefined): Promise<{ bytes: number }> {
  createPrivateFile(dest);
  let total = 0;
  const worker = new Worker(new URL('./snapshot-worker.js', import.meta.url), { workerData: { source, dest }, execArgv: [] });
  const timer = setInterval(() => total > 0 && progress(Math.min(sizeOf(dest), total), total), PROGRESS_EVERY_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: SnapshotMessage) => {
        if ('total' in m) total = m.total;
        else if (m.ok) resolve();
        else reject(new Error(`copying ${source}: ${m.error}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the snapshot thread exited (${code}) before copying ${source}`)));
    });
  } finally {
    clearInterval(timer);
    await worker.terminate();
  }
  const bytes = sizeOf(dest);
  if (total > 0) progress(total, total);
  return { bytes };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
