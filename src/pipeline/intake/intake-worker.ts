import { parentPort, workerData } from 'node:worker_threads';
import { toWritError } from '../../core/errors.js';
import { KeyCache, verifyJob } from '../authenticate/verifier.js';
import type { Intake } from '../context.js';
import { intake, type IntakeLimits } from './intake.js';
import { RESULT_GROUP, unpackBodies, type IntakeReply, type ReplicaKey } from './intake-pool.js';

/** Worker side of IntakePool: the intake stage, and a signature check when the key is known. */
const limits = (workerData as { limits: IntakeLimits }).limits;
const keys = new Map<string, ReplicaKey>();
const cache = new KeyCache();

function prepare(id: number, bearer: boolean, skipVerify: boolean, body: Buffer): IntakeReply {
  let input: Intake;
  try {
    input = intake({ body, bearer: bearer ? '' : undefined, receivedAt: 0 }, limits);
  } catch (err) {
    const e = toWritError(err);
    return { id, error: { code: e.code, message: e.code === 'INTERNAL' ? 'internal error' : e.message } };
  }
  const sig = input.envelope.signature;
  const key = sig && input.envelope.tenant !== undefined ? keys.get(`${input.envelope.tenant}\n${sig.keyId}`) : undefined;
  if (skipVerify || !sig || !key || key.alg !== sig.alg) return { id, intake: input };
  const ok = verifyJob(cache, { alg: key.alg, spki: key.spki, data: input.canonical, sig: Buffer.from(sig.sig, 'base64') });
  return { id, intake: { ...input, verified: { keyDigest: key.digest, ok } } };
}

parentPort?.on('message', (message: Uint8Array | { keys: ReplicaKey[] }) => {
  if (!(message instanceof Uint8Array)) {
    keys.clear();
    for (const k of message.keys) keys.set(`${k.tenant}\n${k.keyId}`, { ...k, spki: Buffer.from(k.spki) });
    return;
  }
  let group: IntakeReply[] = [];
  for (const job of unpackBodies(message)) {
    group.push(prepare(job.id, job.bearer, job.skipVerify === true, job.body));
    if (group.length === RESULT_GROUP) {
      parentPort?.postMessage(group);
      group = [];
    }
  }
  if (group.length > 0) parentPort?.postMessage(group);
});
