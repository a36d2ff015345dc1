import { createPublicKey, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { verifySignature } from '../../core/signature.js';

/** A verification job for a public-key signature over canonical envelope bytes. */
export interface VerifyJob {
  readonly alg: 'ed25519' | 'es256';
  /** SPKI DER of the public key. */
  readonly spki: Buffer;
  readonly data: Buffer;
  readonly sig: Buffer;
}

/** Verifies signatures; the worker pool spreads Ed25519/ES256 checks over the machine's cores. */
export interface Verifier {
  verify(job: VerifyJob): Promise<boolean>;
  close(): Promise<void>;
}

/** Caches KeyObjects by SPKI bytes; shared by the inline verifier and the worker threads. */
export class KeyCache {
  private readonly keys = new Map<string, KeyObject>();
  constructor(private readonly max = 10_000) {}

  get(spki: Buffer): KeyObject {
    const id = spki.toString('base64');
    let key = this.keys.get(id);
    if (!key) {
      if (this.keys.size >= this.max) this.keys.clear();
      key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      this.keys.set(id, key);
    }
    return key;
  }
}

export function verifyJob(cache: KeyCache, job: VerifyJob): boolean {
  try {
    return verifySignature({ alg: job.alg, key: cache.get(job.spki) }, job.data, job.sig);
  } catch {
    return false;
  }
}

export class InlineVerifier implements Verifier {
  private readonly cache = new KeyCache();
  async verify(job: VerifyJob): Promise<boolean> {
    return verifyJob(this.cache, job);
  }
  async close(): Promise<void> {}
}

interface Pending {
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Worker-thread verification. Jobs arriving in one turn of the event loop are sent as one message
 * per worker, so the per-message cost is shared by many commands.
 */
export class WorkerVerifier implements Verifier {
  private readonly workers: Worker[] = [];
  private readonly outstanding: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private buffer: Array<VerifyJob & { id: number }> = [];
  private nextId = 1;
  private scheduled = false;
  private closed = false;

  constructor(count: number) {
    const url = new URL('./verify-worker.js', import.meta.url);
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url);
      worker.unref();
      const slot = i;
      this.outstanding.push(0);
      worker.on('message', (results: Array<[number, boolean]>) => {
        this.outstanding[slot] -= results.length;
        for (const [id, ok] of results) {
          const p = this.pending.get(id);
          this.pending.delete(id);
          p?.resolve(ok);
        }
      });
      worker.on('error', (err) => this.failAll(err));
      this.workers.push(worker);
    }
  }

  verify(job: VerifyJob): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('verifier is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.buffer.push({ ...job, id });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.buffer;
    this.buffer = [];
    const n = this.workers.length;
    const per = Math.ceil(jobs.length / n);
    // Least-loaded workers first, so one slow batch does not hold back the rest.
    const order = [...this.workers.keys()].sort((a, b) => this.outstanding[a] - this.outstanding[b]);
    for (let i = 0; i < n && i * per < jobs.length; i++) {
      const chunk = jobs.slice(i * per, (i + 1) * per);
      const slot = order[i];
      this.outstanding[slot] += chunk.length;
      this.workers[slot].postMessage(chunk);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('verifier closed'));
  }
}

export function createVerifier(workers: number): Verifier {
  return workers > 0 ? new WorkerVerifier(workers) : new InlineVerifier();
}
