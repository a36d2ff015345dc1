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
// For the back-pressure bench: accepted commands' time inside the server, from the request's head
// parsed to the answer sent (refusals past server.maxInFlight never reach Fastify).
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
// And, since the last `mark`: the event loop's delay, CPU, and mean wall time per stage and per commit.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const snapshot = () => ({ cpu: threadCpu(), at: performance.now(), stageNs: { ...writ.pipeline.clock.ns }, commands: writ.applier.stats.commands, commits: { ...commits } });
let marked = snapshot();
process.stdout.write(JSON.stringify({ url, durability: writ.store.durability }) + '\n');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
const r2 = (n: number) => Math.round(n * 100) / 100;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'mark') {
    loop.reset();
    inServer = [];
    marked = snapshot();
    process.stdout.write('{}\n');
    return;
  }
  if (line.trim() === 'stats') {
    const now = snapshot();
    const seconds = (now.at - marked.at) / 1000;
    const cpu = labels.split(marked.cpu, now.cpu);
    const sorted = inServer.sort((a, b) => a - b);
    const total = Object.values(cpu).reduce((a, b) => a + b, 0);
    const commands = now.commands - marked.commands;
    const batches = now.commits.count - marked.commits.count;
    const stages = Object.fromEntries(Object.entries(now.stageNs).map(([k, ns]) => [k, r2((ns - marked.stageNs[k as keyof typeof now.stageNs]) / 1e6 / Math.max(1, commands))]));
    process.stdout.write(
      JSON.stringify({
        loop_delay_p50_ms: r2(loop.percentile(50) / 1e6),
        loop_delay_p99_ms: r2(loop.percentile(99) / 1e6),
        loop_delay_max_ms: r2(loop.max / 1e6),
        accepted_in_server_p50_ms: r2(pct(sorted, 50) ?? NaN),
        accepted_in_server_p99_ms: r2(pct(sorted, 99) ?? NaN),
        cpu_s: r2(total),
        main_cpu_s: r2(cpu.main),
        cpu_cores: r2(total / seconds),
        main_cores: r2(cpu.main / seconds),
        stage_ms_mean: stages,
        batch_mean: r2(commands / Math.max(1, batches)),
        commit_ms_mean: r2((now.commits.ms - marked.commits.ms) / Math.max(1, batches)),
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
