import { spawnBenchServer } from './bench-server.js';
import { LeanConnection } from './lean-client.js';
import { rawVerifyPerSecond } from './raw.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/** Requests not answered this long after the last one was sent count as hung. */
const HANG_MS = 10_000;

/**
 * Back-pressure over HTTP (docs/metrics.md): the server in its own process with server.maxInFlight
 * set to the concurrency of the sustainable load. First that load, `clients` keep-alive clients
 * each sending commands one after another (closed loop, as the http bench), which gives the
 * sustainable rate and its p99. Then four times that rate offered open loop, on a fixed schedule
 * whatever the answers (a request every 1/(4·rate) s, sent in 1 ms ticks): accepted commands' p99
 * should stay within twice the first p99, and every request past the bound be answered 503 at once
 * (none left unanswered).
 */
export async function benchBackpressure(sustainedCommands: number, overloadSeconds: number, clients = 64): Promise<void> {
  const bound = clients;
  const h = await benchHome({ ...BENCH_CONFIG, server: { maxInFlight: bound } } as never);
  const server = await spawnBenchServer(h.home).catch((err: unknown) => {
    h.dispose();
    throw err;
  });
  const pool: LeanConnection[] = [];
  try {
    const { hostname, port } = server.url;
    const host = `${hostname}:${port}`;
    const open = () => LeanConnection.open(hostname, Number(port));
    pool.push(...(await Promise.all(Array.from({ length: clients * 4 + bound }, open))));
    const free = [...pool];
    const post = async (body: Buffer): Promise<number> => {
      let c = free.pop();
      if (!c) pool.push((c = await open()));
      try {
        return await c.post('/v1/commands', host, body);
      } finally {
        free.push(c);
      }
    };
    await runConcurrent(signedProducts(h.admin, h.tenant, 1000, 'bw'), clients, async (b) => void (await post(b)));

    const raw = rawVerifyPerSecond(2000);
    let refusedSustained = 0;
    const sustained = await runConcurrent(signedProducts(h.admin, h.tenant, sustainedCommands, 'bs'), clients, async (b) => {
      if ((await post(b)) !== 200) refusedSustained++;
    });
    const rate = sustainedCommands / sustained.seconds;
    const p99Sustained = percentile(sustained.latencies, 99);

    const offered = Math.round(rate * 4);
    const total = Math.round(offered * overloadSeconds);
    const bodies = signedProducts(h.admin, h.tenant, total, 'bo');
    const accepted: number[] = [];
    const refused: number[] = [];
    const other = new Map<number, number>();
    let answered = 0;
    let sent = 0;
    let lateMs = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) / 1000) * offered));
        if (due > sent) lateMs = Math.max(lateMs, now - (start + (sent / offered) * 1000));
        for (; sent < due; sent++) {
          const t = performance.now();
          void post(bodies[sent]).then(
            (status) => {
              const ms = performance.now() - t;
              if (status === 200) accepted.push(ms);
              else if (status === 503) refused.push(ms);
              else other.set(status, (other.get(status) ?? 0) + 1);
              answered++;
            },
            () => {
              other.set(0, (other.get(0) ?? 0) + 1);
              answered++;
            },
          );
        }
        if (sent < total) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    const offeredSeconds = (performance.now() - start) / 1000;
    for (const until = performance.now() + HANG_MS; answered < total && performance.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    const overloadSecondsAll = (performance.now() - start) / 1000;
    accepted.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    const p99Overload = percentile(accepted, 99);
    emit({
      bench: 'backpressure',
      durability: server.durability,
      max_in_flight: bound,
      raw_verify_per_s: Math.round(raw),
      sustained: { clients, commands: sustainedCommands, cmds_per_s: Math.round(rate), ratio_to_raw_verify: round(rate / raw, 3), p50_ms: round(percentile(sustained.latencies, 50)), p99_ms: round(p99Sustained), refused: refusedSustained },
      overload: {
        offered_per_s: offered,
        offered_s: round(offeredSeconds),
        requests: total,
        accepted: accepted.length,
        accepted_per_s: Math.round(accepted.length / overloadSecondsAll),
        accepted_ratio_to_raw_verify: round(accepted.length / overloadSecondsAll / raw, 3),
        accepted_p50_ms: round(percentile(accepted, 50)),
        accepted_p99_ms: round(p99Overload),
        refused_503: refused.length,
        refused_p99_ms: round(percentile(refused, 99)),
        refused_max_ms: round(refused[refused.length - 1] ?? NaN),
        other_status: Object.fromEntries(other),
        unanswered: total - answered,
        generator_late_max_ms: round(lateMs),
      },
      p99_ratio: round(p99Overload / p99Sustained),
      target_p99_ratio: 2,
      target_met: p99Overload <= 2 * p99Sustained && other.size === 0 && answered === total,
    });
  } finally {
    for (const c of pool) c.close();
    await server.stop();
    h.dispose();
  }
}
