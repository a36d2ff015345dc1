import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NdjsonSinkConfig } from '../../config/config.js';
import type { StoredOutboxRow } from '../../store/port.js';
import { errorText, type Attempt, type Sink } from '../sink.js';

/**
 * Appends one event per line to a file. Deliveries that arrive together form one batch: one write,
 * then (fsync=batch) one fsync, and only then is each of them delivered, so a crash never loses a
 * line counted as delivered. A line may appear twice after a crash (at-least-once); readers
 * de-duplicate by `id`.
 */
export class NdjsonSink implements Sink {
  readonly kind = 'ndjson';
  readonly concurrency = 256;
  private fd: number | null = null;
  private queue: Array<{ line: string; done: (a: Attempt) => void }> = [];
  private scheduled = false;

  constructor(private readonly config: NdjsonSinkConfig) {}

  deliver(_event: StoredOutboxRow, json: string): Promise<Attempt> {
    return new Promise((done) => {
      this.queue.push({ line: json + '\n', done });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    let result: Attempt;
    let size = -1;
    try {
      if (this.fd === null) {
        mkdirSync(dirname(this.config.path), { recursive: true });
        this.fd = openSync(this.config.path, 'a', 0o640);
        // A new file's name is durable only once its folder is synced (fsync of the file alone does not cover it).
        if (this.config.fsync === 'batch' && fstatSync(this.fd).size === 0) syncFolder(dirname(this.config.path));
      }
      size = fstatSync(this.fd).size;
      const bytes = Buffer.from(batch.map((b) => b.line).join(''), 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off);
      if (this.config.fsync === 'batch') fsyncSync(this.fd);
      result = { ok: true };
    } catch (err) {
      result = { ok: false, error: `cannot append to ${this.config.path}: ${errorText(err)}` };
      // Cut off a partial write, so the next batch never continues a broken line.
      try {
        if (this.fd !== null && size >= 0) ftruncateSync(this.fd, size);
      } catch {
        /* the next open appends; a reader skips a line that does not parse */
      }
      this.closeFd();
    }
    for (const b of batch) b.done(result);
  }

  private closeFd(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = null;
    }
  }

  async close(): Promise<void> {
    if (this.queue.length) this.flush();
    this.closeFd();
  }
}

/** fsyncs a folder, so that a file created in it survives a crash; best effort where folders cannot be synced. */
function syncFolder(folder: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    /* not possible on every platform */
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
