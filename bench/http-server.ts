import { createInterface } from 'node:readline';
import { loadConfig } from '../src/config/config.js';
import { buildServer } from '../src/transports/http/server.js';
import { openWrit } from '../src/writ.js';
import { ThreadLabels, threadCpu } from './thread-cpu.js';

/**
 * The server side of the HTTP benchmark: serves a prepared home on a free loopback port. A line
 * `cpu` on stdin is answered with the CPU seconds each kind of thread has used so far, and the
 * batches committed so far with the wall time their commits took (handed to the writer thread until
 * durable), so the benchmark can tell waiting on the disk from want of CPU.
 */
const home = process.argv[2];
const config = loadConfig(home);
const before = new Set(threadCpu().keys());
const writ = await openWrit(config);
const labels = new ThreadLabels(before, threadCpu().keys(), config.verify.workers);
const app = buildServer(writ);
// Wall time per stage (waiting included), to see where a command's latency goes.
writ.pipeline.clock.enabled = true;
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const start = new Map<number, number>();
const commits = { count: 0, ms: 0 };
const commit = writ.store.commit.bind(writ.store);
writ.store.commit = async (batch) => {
  const t = performance.now();
  await commit(batch);
  commits.count++;
  commits.ms += performance.now() - t;
};
process.stdout.write(JSON.stringify({ url, durability: writ.store.durability }) + '\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'cpu') return;
  const { commands } = writ.applier.stats;
  process.stdout.write(JSON.stringify({ cpu: labels.split(start, threadCpu()), commands, commits: commits.count, commitMs: commits.ms, stageNs: { ...writ.pipeline.clock.ns } }) + '\n');
});
process.on('SIGTERM', () => {
  void app.close().then(() => writ.close()).then(() => process.exit(0));
});
