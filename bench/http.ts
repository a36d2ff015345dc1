import { readFileSync } from 'node:fs';
import { spawnBenchServer } from './bench-server.js';
import { LeanConnection } from './lean-client.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Signed commands over loopback HTTP: the server runs in its own process (so it has the machine as
 * it would in production, minus what the clients use), `clients` keep-alive connections each send
 * pre-signed UpsertProduct commands one after another (LeanConnection: a wrk-style client, so the
 * load generator takes little of the two cores the server runs on).
 */
export async function benchHttp(count: number, clients: number, serverArgs: readonly string[] = []): Promise<void> {
  // Closed loop: every client waits for its answer, so none of them is overload to refuse.
  const h = await benchHome({ ...BENCH_CONFIG, server: { maxInFlight: Math.max(clients, 64) } } as never);
  const server = await spawnBenchServer(h.home, serverArgs).catch((err: unknown) => {
    h.dispose();
    throw err;
  });
  try {
    const threadCpu = async () =>
      JSON.parse(await server.ask('cpu')) as { cpu: Record<string, number>; commands: number; commits: number; commitMs: number; stageNs: Record<string, number> };
    const { durability } = server;
    const target = server.url;
    const host = `${target.hostname}:${target.port}`;
    const connections = await Promise.all(Array.from({ length: clients }, () => LeanConnection.open(target.hostname, Number(target.port))));
    const free = [...connections];
    const post = async (body: Buffer): Promise<number> => {
      const c = free.pop()!;
      try {
        return await c.post('/v1/commands', host, body);
      } finally {
        free.push(c);
      }
    };
    await runConcurrent(signedProducts(h.admin, h.tenant, 1000, 'hw'), clients, async (b) => void (await post(b)));
    const bodies = signedProducts(h.admin, h.tenant, count, 'h');
    let errors = 0;
    const threads0 = await threadCpu();
    const serverCpu0 = cpuSeconds(server.pid);
    const clientCpu0 = process.cpuUsage();
    const run = await runConcurrent(bodies, clients, async (b) => {
      if ((await post(b)) !== 200) errors++;
    });
    const clientCpu = process.cpuUsage(clientCpu0);
    const serverCpu = cpuSeconds(server.pid) - serverCpu0;
    const threads1 = await threadCpu();
    // CPU per command by thread: less disturbed by other load on the machine than throughput.
    const usPerCmd: Record<string, number> = {};
    for (const k of Object.keys(threads1.cpu)) usPerCmd[k] = Math.round(((threads1.cpu[k] - (threads0.cpu[k] ?? 0)) * 1e6) / count);
    const commits = threads1.commits - threads0.commits;
    usPerCmd.total = Math.round((serverCpu * 1e6) / count);
    for (const c of connections) c.close();
    emit({
      bench: 'http',
      durability,
      commands: count,
      clients,
      cmds_per_s: Math.round(count / run.seconds),
      p50_ms: round(percentile(run.latencies, 50)),
      p99_ms: round(percentile(run.latencies, 99)),
      target_cmds_per_s: 4000,
      target_p99_ms: 50,
      // Cores busy on average: the load generator shares the machine's two cores with the server.
      server_cores: round(serverCpu / run.seconds),
      client_cores: round((clientCpu.user + clientCpu.system) / 1e6 / run.seconds),
      server_cpu_us_per_cmd: usPerCmd,
      // Group commit: commands per batch, and how long a batch took from hand-over to durable.
      batch_mean: round((threads1.commands - threads0.commands) / commits, 1),
      commit_ms_mean: round((threads1.commitMs - threads0.commitMs) / commits),
      stage_ms_mean: Object.fromEntries(Object.keys(threads1.stageNs).map((k) => [k, round((threads1.stageNs[k] - threads0.stageNs[k]) / 1e6 / count, 3)])),
      errors,
    });
  } finally {
    await server.stop();
    h.dispose();
  }
}
