import { Worker } from 'node:worker_threads';

/** How a pool's jobs travel to its workers and its results come back. */
export interface PoolCodec<J, R> {
  /** Packs jobs (with their ids) into one transferable buffer. */
  pack(jobs: ReadonlyArray<{ readonly id: number; readonly job: J }>): Uint8Array;
  /** Reads one message of a worker: results, or errors, by job id. */
  unpack(message: unknown): Iterable<{ readonly id: number; readonly result?: R; readonly error?: Error }>;
}

/**
 * A pool of worker threads that takes jobs one by one and sends them in batches: the jobs that
 * arrive in one turn of the event loop go out as one message per worker (so the per-message cost is
 * shared), to the least-loaded workers first. Workers may answer a batch in several messages.
 */
export class WorkerPool<J, R> {
  private readonly workers: Worker[] = [];
  private readonly outstanding: number[] = [];
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void; slot: number }>();
  private buffer: Array<{ id: number; job: J }> = [];
  private nextId = 1;
  private scheduled = false;
  private closed = false;

  constructor(url: URL, count: number, private readonly codec: PoolCodec<J, R>, workerData?: unknown) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url, { execArgv: [], workerData });
      worker.unref();
      this.outstanding.push(0);
      worker.on('message', (message: unknown) => {
        for (const r of this.codec.unpack(message)) {
          const p = this.pending.get(r.id);
          if (!p) continue;
          this.pending.delete(r.id);
          this.outstanding[p.slot]--;
          if (r.error) p.reject(r.error);
          else p.resolve(r.result as R);
        }
      });
      worker.on('error', (err) => this.failAll(err));
      this.workers.push(worker);
    }
  }

  run(job: J): Promise<R> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
      this.pending.set(id, { resolve, reject, slot: -1 });
      this.buffer.push({ id, job });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends a message to every worker (e.g. a replica of shared data). */
  broadcast(message: unknown): void {
    for (const w of this.workers) w.postMessage(message);
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.buffer;
    this.buffer = [];
    const n = this.workers.length;
    const per = Math.ceil(jobs.length / n);
    const order = [...this.workers.keys()].sort((a, b) => this.outstanding[a] - this.outstanding[b]);
    for (let i = 0; i < n && i * per < jobs.length; i++) {
      const chunk = jobs.slice(i * per, (i + 1) * per);
      const slot = order[i];
      this.outstanding[slot] += chunk.length;
      for (const { id } of chunk) this.pending.get(id)!.slot = slot;
      const packed = this.codec.pack(chunk);
      this.workers[slot].postMessage(packed, [packed.buffer as ArrayBuffer]);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('worker pool closed'));
  }
}
