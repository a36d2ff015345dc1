import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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
let inServer: number[] = [];
app.addHook('onResponse', (request, reply, done) => {
  if (reply.statusCode === 200 && request.method === 'POST' && request.url === '/v1/commands') inServer.push(reply.elapsedTime);
  done();
});
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
// For the back-pressure bench: the event loop's delay and accepted commands' time inside the server
// (from the request's head parsed to the answer sent), since the last `mark`.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let marked = { cpu: threadCpu(), at: performance.now() };
process.stdout.write(JSON.stringify({ url, durability: writ.store.durability }) + '\n');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'mark') {
    loop.reset();
    inServer = [];
    marked = { cpu: threadCpu(), at: performance.now() };
    process.stdout.write('{}\n');
    return;
  }
  if (line.trim() === 'stats') {
    const seconds = (performance.now() - marked.at) / 1000;
    const cpu = labels.split(marked.cpu, threadCpu());
    const sorted = inServer.sort((a, b) => a - b);
    const total = Object.values(cpu).reduce((a, b) => a + b, 0);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    process.stdout.write(
      JSON.stringify({
        loop_delay_p50_ms: ms(loop.percentile(50)),
        loop_delay_p99_ms: ms(loop.percentile(99)),
        loop_delay_max_ms: ms(loop.max),
        accepted_in_server_p50_ms: pct(sorted, 50),
        accepted_in_server_p99_ms: pct(sorted, 99),
        cpu_s: Math.round(total * 100) / 100,
        main_cpu_s: Math.round(cpu.main * 100) / 100,
        cpu_cores: Math.round((total / seconds) * 100) / 100,
        main_cores: Math.round((cpu.main / seconds) * 100) / 100,
      }) + '\n',
    );
    return;
  }
  if (line.trim() !== 'cpu') return;
  const { commands } = writ.applier.stats;
  process.stdout.write(JSON.stringify({ cpu: labels.split(start, threadCpu()), commands, commits: commits.count, commitMs: commits.ms, stageNs: { ...writ.pipeline.clock.ns } }) + '\n');
});
process.on('SIGTERM', () => {
  void app.close().then(() => writ.close()).then(() => process.exit(0));
});
