import { parentPort } from 'node:worker_threads';
import { KeyCache, unpackJobs, verifyJob } from './verifier.js';

/** Results are sent back in groups this small, so the first commands of a batch need not wait for the last. */
export const RESULT_GROUP = 4;

/** Worker side of WorkerVerifier: verifies a packed batch and answers (id, ok) pairs, a group at a time. */
const cache = new KeyCache();
parentPort?.on('message', (packed: Uint8Array) => {
  const jobs = unpackJobs(packed);
  for (let start = 0; start < jobs.length; start += RESULT_GROUP) {
    const group = jobs.slice(start, start + RESULT_GROUP);
    const results = new Uint32Array(group.length * 2);
    group.forEach((job, i) => {
      results[2 * i] = job.id;
      results[2 * i + 1] = verifyJob(cache, job) ? 1 : 0;
    });
    parentPort?.postMessage(results, [results.buffer]);
  }
});
