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
      const worker = new Worker(url, { execArgv: [] });
      worker.unref();
      const slot = i;
      this.outstanding.push(0);
      worker.on('message', (results: Uint32Array) => {
        // Pairs of (id, ok).
        this.outstanding[slot] -= results.length / 2;
        for (let k = 0; k < results.length; k += 2) {
          const id = results[k];
          const p = this.pending.get(id);
          this.pending.delete(id);
          p?.resolve(results[k + 1] === 1);
        }
      });
      worker.on('error', (err) => this.failAll(err));
      this.workers.push(worker);
    }
  }

  verify(job: VerifyJob): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('verifier is closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
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
      const packed = packJobs(chunk);
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
    this.failAll(new Error('verifier closed'));
  }
}

/*
 * A batch travels as ONE transferable buffer (no per-job structured clone). Per job:
 *   u32 id | u8 alg (0 ed25519, 1 es256) | u16 spki length | u32 data length | u16 sig length | spki | data | sig
 */
const HEADER = 13;

export function packJobs(jobs: ReadonlyArray<VerifyJob & { id: number }>): Uint8Array {
  let size = 0;
  for (const j of jobs) size += HEADER + j.spki.length + j.data.length + j.sig.length;
  const out = Buffer.allocUnsafeSlow(size);
  let o = 0;
  for (const j of jobs) {
    out.writeUInt32LE(j.id >>> 0, o);
    out[o + 4] = j.alg === 'ed25519' ? 0 : 1;
    out.writeUInt16LE(j.spki.length, o + 5);
    out.writeUInt32LE(j.data.length, o + 7);
    out.writeUInt16LE(j.sig.length, o + 11);
    o += HEADER;
    o += j.spki.copy(out, o);
    o += j.data.copy(out, o);
    o += j.sig.copy(out, o);
  }
  return out;
}

export function unpackJobs(packed: Uint8Array): Array<VerifyJob & { id: number }> {
  const b = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const jobs: Array<VerifyJob & { id: number }> = [];
  let o = 0;
  while (o < b.length) {
    const id = b.readUInt32LE(o);
    const alg = b[o + 4] === 0 ? 'ed25519' : 'es256';
    const spkiLen = b.readUInt16LE(o + 5);
    const dataLen = b.readUInt32LE(o + 7);
    const sigLen = b.readUInt16LE(o + 11);
    o += HEADER;
    const spki = b.subarray(o, (o += spkiLen));
    const data = b.subarray(o, (o += dataLen));
    const sig = b.subarray(o, (o += sigLen));
    jobs.push({ id, alg, spki, data, sig });
  }
  return jobs;
}

export function createVerifier(workers: number): Verifier {
  return workers > 0 ? new WorkerVerifier(workers) : new InlineVerifier();
}
