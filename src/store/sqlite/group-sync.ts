import { closeSync, existsSync, fsync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Group fsync of the SQLite write-ahead log, off the event loop. SQLite runs with
 * synchronous=OFF and automatic checkpoints disabled; after each COMMIT, writ itself fsyncs the
 * WAL file in the thread pool and acknowledges the commit only when that fsync has returned. That
 * is the guarantee of synchronous=FULL in WAL mode (the WAL is synced after every commit), but the
 * sync no longer blocks the JavaScript thread, and one fsync covers every commit made before it.
 * Checkpoints run under synchronous=FULL (see SqliteStore.checkpoint), so the database file is
 * synced before the WAL is reused.
 */
export class GroupSync {
  private committed = 0;
  private synced = 0;
  private running = false;
  private fd: number | undefined;
  private dirSynced = false;
  private failure: Error | undefined;
  private readonly waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly walPath: string, private readonly afterSync: () => void) {}

  /** Call after each COMMIT; the promise resolves once that commit is on disk. */
  commit(): Promise<void> {
    this.committed++;
    return this.waitFor(this.committed);
  }

  /** Resolves once every commit so far is on disk. */
  all(): Promise<void> {
    return this.waitFor(this.committed);
  }

  get idle(): boolean {
    return this.synced >= this.committed;
  }

  private waitFor(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.waiters.length === 0) return;
    this.running = true;
    const upto = this.committed;
    let fd: number;
    try {
      fd = this.open();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    fsync(fd, (err) => {
      this.running = false;
      if (err) return this.fail(err);
      this.synced = Math.max(this.synced, upto);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const w = this.waiters[i];
        if (w.seq <= upto) {
          this.waiters.splice(i, 1);
          w.resolve();
        }
      }
      this.afterSync();
      this.kick();
    });
  }

  private open(): number {
    if (this.fd === undefined) {
      this.fd = openSync(this.walPath, 'r');
    }
    if (!this.dirSynced) {
      // The WAL file's directory entry must be durable too, once.
      const dfd = openSync(dirname(this.walPath), 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
      this.dirSynced = true;
    }
    return this.fd;
  }

  private fail(err: Error): void {
    this.running = false;
    this.failure = new Error(`fsync of ${this.walPath} failed: ${err.message}; writ stops acknowledging commands`, { cause: err });
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  walBytes(): number {
    return existsSync(this.walPath) ? statSync(this.walPath).size : 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
