import { Worker } from 'node:worker_threads';

/**
 * Runs WAL checkpoints on a connection of its own in a worker thread, so copying the WAL into the
 * database and syncing it never blocks the event loop. The worker's connection uses
 * synchronous=FULL: SQLite syncs the WAL before copying and the database file before it records
 * the frames as backfilled, and only backfilled frames are ever overwritten when the writer
 * restarts the WAL. PASSIVE checkpoints never wait for the writer.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private running = false;
  private closed = false;
  count = 0;

  constructor(path: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path } });
    this.worker.unref();
    this.worker.on('message', () => {
      this.running = false;
      this.count++;
    });
    this.worker.on('error', () => {
      this.running = false;
    });
  }

  /** Starts a checkpoint unless one is running. */
  request(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.worker.postMessage('checkpoint');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}
