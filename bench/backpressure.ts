import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnBenchServer, type BenchServer } from './bench-server.js';
import type { OpenLoopResult } from './open-loop.js';
import { BENCH_CONFIG, benchHome, emit, round, signedProducts, type BenchHome } from './support.js';

/** Requests not answered this long after the last one was sent count as hung. */
const HANG_MS = 10_000;
/** A step of the search is still "flat" while its p99 is at most this many times the lightest step's. */
const FLAT = 1.5;

export interface BackpressureOptions {
  /** server.maxInFlight; undefined: the default writ ships with. */
  readonly bound?: number;
  /** Seconds of each step of the search for the sustainable rate, and of the 1× and 4× runs. */
  readonly stepSeconds: number;
  readonly loadSeconds: number;
  /** The generator's nice value (0: none): it then takes only CPU the server leaves. */
  readonly nice: number;
  /** The sustainable rate, given instead of searched for (to compare settings at the same load). */
  readonly rate?: number;
}

interface Phase {
  readonly gen: OpenLoopResult;
  readonly server: Record<string, unknown>;
  /** Connections the kernel dropped because a listen socket's accept queue was full (the whole machine's count, Linux). */
  readonly listenOverflows: number;
}

/** TcpExt ListenOverflows from /proc/net/netstat: a SYN dropped for a full accept queue is retried by the client after 1 s. */
function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(' ');
    return Number(lines[1].split(' ')[names.indexOf('ListenOverflows')]);
  } catch {
    return NaN;
  }
}

/** Runs the open-loop generator (bench/open-loop.ts) in its own process at `rate` for `seconds`. */
async function runPhase(h: BenchHome, server: BenchServer, rate: number, seconds: number, nice: number, tag: string): Promise<Phase> {
  const file = join(h.home, `bodies-${tag}.ndjson`);
  writeFileSync(file, signedProducts(h.admin, h.tenant, Math.ceil(rate * seconds), tag).join('\n'));
  const script = fileURLToPath(new URL('./open-loop.js', import.meta.url));
  const { hostname, port } = server.url;
  const args = [script, hostname, port, file, String(rate), String(seconds), String(HANG_MS), String(Math.min(512, Math.max(16, Math.ceil(rate / 50))))];
  await server.ask('mark');
  const overflows = listenOverflows();
  const child = nice > 0 ? spawn('nice', ['-n', String(nice), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  const gen = JSON.parse(out) as OpenLoopResult;
  const stats = JSON.parse(await server.ask('stats')) as Record<string, unknown>;
  return { gen, server: stats, listenOverflows: listenOverflows() - overflows };
}

const count = (p: Phase, status: string) => p.gen.latencies[status]?.count ?? 0;
const p99 = (p: Phase, status = '200') => p.gen.latencies[status]?.p99 ?? NaN;
const p50 = (p: Phase, status = '200') => p.gen.latencies[status]?.p50 ?? NaN;
const others = (p: Phase) => Object.fromEntries(Object.entries(p.gen.latencies).filter(([s]) => s !== '200' && s !== '503').map(([s, l]) => [s, l.count]));

/** One phase as a JSON object: rates, latencies by answer, the server's and the generator's side. */
function summary(p: Phase): Record<string, unknown> {
  const g = p.gen;
  return {
    offered_per_s: g.offered_per_s,
    sent: g.sent,
    accepted: count(p, '200'),
    accepted_per_s: Math.round(count(p, '200') / g.send_seconds),
    accepted_p50_ms: round(p50(p)),
    accepted_p99_ms: round(p99(p)),
    refused_503: count(p, '503'),
    refused_p99_ms: round(p99(p, '503')),
    refused_max_ms: round(g.latencies['503']?.max ?? NaN),
    other_status: others(p),
    failed: g.failed,
    hung: g.unanswered,
    generator_late_max_ms: round(g.late_max_ms),
    generator_cores: round(g.cpu_cores),
    connections: g.connections_opened,
    listen_overflows: p.listenOverflows,
    server: p.server,
  };
}

/**
 * Back-pressure over HTTP (docs/benchmarks.md): the server in its own process, the load from an
 * open-loop generator in another (bench/open-loop.ts: a fixed arrival rate, latency from each
 * request's due time). First the sustainable rate is found in the same run: steps of rising rate,
 * the highest whose accepted p99 is still within FLAT× the lightest step's, all answered 200. Then
 * that rate (1×) and four times it (4×): accepted commands' p99 at 4× should stay within 2× its
 * value at 1×, every refusal be a 503 with nothing left unanswered.
 */
export async function benchBackpressure(o: BackpressureOptions): Promise<void> {
  const config = o.bound === undefined ? BENCH_CONFIG : { ...BENCH_CONFIG, server: { maxInFlight: o.bound } };
  const h = await benchHome(config as never);
  const server = await spawnBenchServer(h.home).catch((err: unknown) => {
    h.dispose();
    throw err;
  });
  try {
    await runPhase(h, server, 500, 1, o.nice, 'warm');
    let rate = 250;
    let sustainable = o.rate ?? 0;
    // The unloaded p99: the lowest of the steps so far (a step's p99 only grows with its rate, but
    // the machine's other load adds noise, which is also why a step that is not flat runs again once).
    let floor = Infinity;
    let retried = false;
    for (let step = 0; step < 16 && o.rate === undefined; step++) {
      const p = await runPhase(h, server, rate, o.stepSeconds, o.nice, `s${step}`);
      const p99Step = p99(p);
      floor = Math.min(floor, p99Step);
      const flat = count(p, '200') === p.gen.sent && p99Step <= FLAT * floor;
      emit({ bench: 'backpressure_step', rate, accepted_p50_ms: round(p50(p)), accepted_p99_ms: round(p99Step), flat_limit_ms: round(FLAT * floor), all_200: count(p, '200') === p.gen.sent, flat, server: p.server, generator_cores: round(p.gen.cpu_cores) });
      if (flat) {
        sustainable = rate;
        rate = Math.round(rate * 1.25);
        retried = false;
      } else if (retried) break;
      else retried = true;
    }
    if (sustainable === 0) throw new Error('no step had a flat p99: the machine is too busy to measure');
    const one = await runPhase(h, server, sustainable, o.loadSeconds, o.nice, 'one');
    const four = await runPhase(h, server, sustainable * 4, o.loadSeconds, o.nice, 'four');
    const ratio = p99(four) / p99(one);
    const refusedAll503 = Object.keys(others(four)).length === 0 && four.gen.failed === 0;
    emit({
      bench: 'backpressure',
      durability: server.durability,
      max_in_flight: o.bound ?? 'default',
      generator_nice: o.nice,
      load_average_1m: round(loadavg()[0]),
      sustainable_per_s: sustainable,
      one: summary(one),
      four: summary(four),
      p99_ratio: round(ratio),
      target_p99_ratio: 2,
      refused_all_503: refusedAll503,
      hung: four.gen.unanswered,
      target_met: ratio <= 2 && refusedAll503 && four.gen.unanswered === 0,
    });
  } finally {
    await server.stop();
    h.dispose();
  }
}
