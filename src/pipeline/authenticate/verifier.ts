import { createPublicKey, type KeyObject } from 'node:crypto';
import { verifySignature } from '../../core/signature.js';
import { WorkerPool } from '../../util/worker-pool.js';

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

/** Worker-thread verification: a WorkerPool of verify-worker.js threads. */
export class WorkerVerifier implements Verifier {
  private readonly pool: WorkerPool<VerifyJob, boolean>;

  constructor(count: number) {
    this.pool = new WorkerPool(new URL('./verify-worker.js', import.meta.url), count, {
      pack: (jobs) => packJobs(jobs.map(({ id, job }) => ({ ...job, id }))),
      *unpack(message) {
        // Pairs of (id, ok).
        const results = message as Uint32Array;
        for (let k = 0; k < results.length; k += 2) yield { id: results[k], result: results[k + 1] === 1 };
      },
    });
  }

  verify(job: VerifyJob): Promise<boolean> {
    return this.pool.run(job);
  }

  close(): Promise<void> {
    return this.pool.close();
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
