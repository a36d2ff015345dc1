import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NatsCommandClient } from '../src/transports/nats/client.js';
import { NatsServer, natsServerBinary, natsServerVersion } from '../test/support/nats.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/** Starts bench/nats-intake-server.js in `mode` and waits for its first line. */
async function startSide(mode: 'writ' | 'echo', home: string, url: string) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./nats-intake-server.js', import.meta.url)), mode, home, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the ${mode} side of the NATS benchmark exited with ${code}`)));
  });
  return {
    durability: (JSON.parse(first) as { durability: string }).durability,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Sends `bodies` through the intake at `clients` concurrency, each awaiting its answer. */
async function drive(client: NatsCommandClient, tenant: string, bodies: readonly Buffer[], clients: number) {
  let errors = 0;
  const run = await runConcurrent(bodies, clients, async (b) => {
    const a = await client.submit(tenant, b, { timeoutMs: 120_000 });
    if (a.status !== 200) errors++;
  });
  return { ...run, errors };
}

/**
 * Signed commands over the NATS JetStream intake: publish (with its PubAck), then the answer on the
 * client's inbox; writ runs in its own process as under `writ serve --nats`. `raw_*` is the same
 * loop against an echo consumer on a fresh stream: NATS round trips with no pipeline, measured in
 * the same run; `ratio` = cmds_per_s / raw_roundtrips_per_s. Skipped, saying so, without nats-server.
 */
export async function benchNatsIntake(count: number, clients: number): Promise<void> {
  if (!natsServerBinary()) {
    emit({ bench: 'nats_intake', skipped: true, reason: 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER)' });
    return;
  }
  const results: Record<string, { seconds: number; latencies: number[]; errors: number; durability: string }> = {};
  for (const mode of ['echo', 'writ'] as const) {
    // A fresh nats-server and home for each: neither run inherits the other's stream or database.
    const server = await NatsServer.start();
    const h = await benchHome({ ...BENCH_CONFIG, nats: { url: server.url } });
    const side = await startSide(mode, h.home, server.url);
    const client = await NatsCommandClient.connect(server.url);
    try {
      await drive(client, h.tenant, signedProducts(h.admin, h.tenant, 500, 'nw'), clients);
      results[mode] = { ...(await drive(client, h.tenant, signedProducts(h.admin, h.tenant, count, 'n'), clients)), durability: side.durability };
    } finally {
      await client.close();
      await side.stop();
      await server.close();
      h.dispose();
    }
  }
  const w = results.writ;
  const raw = results.echo;
  const cmdsPerS = count / w.seconds;
  const rawPerS = count / raw.seconds;
  emit({
    bench: 'nats_intake',
    durability: `${w.durability}; commands in a JetStream file stream (${natsServerVersion() ?? 'nats-server'}, default sync)`,
    commands: count,
    clients,
    cmds_per_s: Math.round(cmdsPerS),
    p50_ms: round(percentile(w.latencies, 50)),
    p99_ms: round(percentile(w.latencies, 99)),
    raw_roundtrips_per_s: Math.round(rawPerS),
    raw_p99_ms: round(percentile(raw.latencies, 99)),
    ratio: round(cmdsPerS / rawPerS),
    errors: w.errors + raw.errors,
  });
}
