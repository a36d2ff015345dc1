import { parentPort } from 'node:worker_threads';
import { KeyCache, verifyJob, type VerifyJob } from './verifier.js';

/** Worker side of WorkerVerifier: verifies a batch and answers [id, ok] pairs. */
const cache = new KeyCache();
parentPort?.on('message', (jobs: Array<VerifyJob & { id: number; data: Uint8Array; sig: Uint8Array; spki: Uint8Array }>) => {
  const results: Array<[number, boolean]> = [];
  for (const job of jobs) {
    results.push([job.id, verifyJob(cache, { alg: job.alg, spki: Buffer.from(job.spki), data: Buffer.from(job.data), sig: Buffer.from(job.sig) })]);
  }
  parentPort?.postMessage(results);
});
