import { isCode } from '../../core/codes.js';
import { WritError } from '../../core/errors.js';
import type { Intake, Submission } from '../context.js';
import type { IntakeLimits } from './intake.js';
import { WorkerPool } from '../../util/worker-pool.js';

/** A public key as the intake workers know it: enough to check a signature, nothing to trust it by. */
export interface ReplicaKey {
  readonly tenant: string;
  readonly keyId: string;
  readonly alg: 'ed25519' | 'es256';
  readonly spki: Buffer;
  /** SHA-256 of the SPKI bytes, hex: how authenticate tells that a worker used the key it knows. */
  readonly digest: string;
}

/** What a worker answers for one body. */
export type IntakeReply =
  | { readonly id: number; readonly intake: Intake }
  | { readonly id: number; readonly error: { readonly code: string; readonly message: string } };

/** Results come back in groups this small, so the first bodies of a batch need not wait for the last. */
export const RESULT_GROUP = 4;

/*
 * A batch of bodies travels as ONE transferable buffer. Per body:
 *   u32 id | u8 flags (1: a bearer token came along; 2: do not check the signature) | u32 length | body bytes
 */
const HEADER = 9;

export interface BodyJob {
  readonly id: number;
  readonly bearer: boolean;
  /** Skip the signature check (the body looks like a retry: authenticate may not need it). */
  readonly skipVerify?: boolean;
  readonly body: Uint8Array;
}

export function packBodies(jobs: ReadonlyArray<BodyJob>): Uint8Array {
  let size = 0;
  for (const j of jobs) size += HEADER + j.body.byteLength;
  const out = Buffer.allocUnsafeSlow(size);
  let o = 0;
  for (const j of jobs) {
    out.writeUInt32LE(j.id >>> 0, o);
    out[o + 4] = (j.bearer ? 1 : 0) | (j.skipVerify ? 2 : 0);
    out.writeUInt32LE(j.body.byteLength, o + 5);
    o += HEADER;
    out.set(j.body, o);
    o += j.body.byteLength;
  }
  return out;
}

export function unpackBodies(packed: Uint8Array): Array<BodyJob & { body: Buffer }> {
  const b = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const jobs: Array<BodyJob & { body: Buffer }> = [];
  let o = 0;
  while (o < b.length) {
    const id = b.readUInt32LE(o);
    const flags = b[o + 4];
    const length = b.readUInt32LE(o + 5);
    o += HEADER;
    jobs.push({ id, bearer: (flags & 1) !== 0, skipVerify: (flags & 2) !== 0, body: b.subarray(o, (o += length)) });
  }
  return jobs;
}

/**
 * Runs the intake stage (strict parse, shape, RFC 8785 bytes, commandHash) in worker threads, and
 * in the same round trip checks the signature when the worker knows the key: the workers hold a
 * replica of the registered public keys. The verdict is only a hint that authenticate accepts when
 * the worker's key bytes are those of its own registry, which also decides validity and revocation.
 * The event loop is left with the decisions.
 */
export class IntakePool {
  private readonly pool: WorkerPool<Omit<BodyJob, 'id'>, Intake>;

  /**
   * @param likelyRetry a cheap guess from the raw bytes that the body repeats a command whose
   *   outcome is stored; such a body is answered from the store without a signature check, so the
   *   worker skips it. A wrong guess costs a round trip to the verify pool, never correctness.
   */
  constructor(count: number, limits: IntakeLimits, private readonly likelyRetry: (body: Uint8Array) => boolean = () => false) {
    this.pool = new WorkerPool(
      new URL('./intake-worker.js', import.meta.url),
      count,
      {
        pack: (jobs) => packBodies(jobs.map(({ id, job }) => ({ id, ...job }))),
        *unpack(message) {
          for (const r of message as IntakeReply[]) {
            if ('intake' in r) {
              // Structured clone delivers a Buffer as a plain Uint8Array.
              const c = r.intake.canonical as Uint8Array;
              yield { id: r.id, result: { ...r.intake, canonical: Buffer.from(c.buffer, c.byteOffset, c.byteLength) } };
            } else {
              yield { id: r.id, error: new WritError(isCode(r.error.code) ? r.error.code : 'INTERNAL', r.error.message) };
            }
          }
        },
      },
      { limits },
    );
  }

  /** Replaces the workers' key replica. */
  setKeys(keys: readonly ReplicaKey[]): void {
    this.pool.broadcast({ keys: keys.map((k) => ({ tenant: k.tenant, keyId: k.keyId, alg: k.alg, spki: k.spki, digest: k.digest })) });
  }

  prepare(submission: Submission): Promise<Intake> {
    return this.pool.run({ bearer: submission.bearer !== undefined, skipVerify: this.likelyRetry(submission.body), body: submission.body });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
