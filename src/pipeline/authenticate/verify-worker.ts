import { parentPort } from 'node:worker_threads';
import { KeyCache, unpackJobs, verifyJob } from './verifier.js';

/** Worker side of WorkerVerifier: verifies a packed batch and answers (id, ok) pairs. */
const cache = new KeyCache();
parentPort?.on('message', (packed: Uint8Array) => {
  const jobs = unpackJobs(packed);
  const results = new Uint32Array(jobs.length * 2);
  jobs.forEach((job, i) => {
    results[2 * i] = job.id;
    results[2 * i + 1] = verifyJob(cache, job) ? 1 : 0;
  });
  parentPort?.postMessage(results, [results.buffer]);
});
