import { readFileSync } from 'node:fs';
import { LeanConnection } from './lean-client.js';

/** Answers of one status: how many, and their latency percentiles (ms). */
export interface Latencies {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function latencies(list: number[]): Latencies {
  const s = list.sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { count: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] };
}

/** What one open-loop run reports (one JSON line on stdout). */
export interface OpenLoopResult {
  readonly offered_per_s: number;
  readonly sent: number;
  /** Wall seconds from the first scheduled send to the last actual one. */
  readonly send_seconds: number;
  /** How far the schedule slipped at worst: a request sent this long after its due time. */
  readonly late_max_ms: number;
  /** Latency from each request's scheduled time (not its actual send) to its whole answer, by status. */
  readonly latencies: Record<string, Latencies>;
  /** Requests with no answer `hangMs` after the last was sent, and requests whose connection failed. */
  readonly unanswered: number;
  readonly failed: number;
  readonly connections_opened: number;
  /** This process's CPU seconds (user + system) over the run, and per wall second (cores). */
  readonly cpu_s: number;
  readonly cpu_cores: number;
}

/**
 * An open-loop load generator, meant to run in its own process (bench/backpressure.ts spawns it):
 * request i is due at start + i ÷ rate whatever the answers, and its latency is measured from that
 * due time, so a late send (this process descheduled, or no connection free) counts against the
 * server and not silently for it (no coordinated omission). Each keep-alive connection carries one
 * request at a time; when none is free a new one is opened. Requests are built as bytes beforehand.
 *
 * argv: host port bodiesFile (one JSON body a line) rate seconds hangMs connections
 */
async function main(): Promise<void> {
  const [host, portArg, file, rateArg, secondsArg, hangArg, connArg] = process.argv.slice(2);
  const port = Number(portArg);
  const rate = Number(rateArg);
  const hangMs = Number(hangArg);
  const bodies = readFileSync(file, 'latin1').split('\n').filter((l) => l.length > 0);
  const total = Math.min(bodies.length, Math.round(rate * Number(secondsArg)));
  const requests = bodies.slice(0, total).map((b) => Buffer.from(`POST /v1/commands HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b, 'latin1')}\r\n\r\n${b}`, 'latin1'));
  const open = () => LeanConnection.open(host, port);
  const free: LeanConnection[] = await Promise.all(Array.from({ length: Number(connArg) }, open));
  let opened = free.length;
  const byStatus = new Map<number, number[]>();
  let answered = 0;
  let failed = 0;
  let sent = 0;
  let lateMs = 0;

  const send = async (i: number, due: number): Promise<void> => {
    let c = free.pop();
    if (!c) {
      opened++;
      c = await open();
    }
    try {
      const { status } = await c.send(requests[i]);
      const ms = performance.now() - due;
      let list = byStatus.get(status);
      if (!list) byStatus.set(status, (list = []));
      list.push(ms);
      free.push(c);
    } catch {
      failed++;
    } finally {
      answered++;
    }
  };

  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const at = start + (sent / rate) * 1000;
        lateMs = Math.max(lateMs, now - at);
        void send(sent, at);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  for (const until = performance.now() + hangMs; answered < total && performance.now() < until; ) await new Promise((r) => setTimeout(r, 5));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - start) / 1000;
  const result: OpenLoopResult = {
    offered_per_s: rate,
    sent,
    send_seconds: sendSeconds,
    late_max_ms: lateMs,
    latencies: Object.fromEntries([...byStatus].map(([s, l]) => [String(s), latencies(l)])),
    unanswered: total - answered,
    failed,
    connections_opened: opened,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    cpu_cores: (cpu.user + cpu.system) / 1e6 / wall,
  };
  // A pipe's write is asynchronous: exit once the line is out (open connections would keep the process alive).
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

await main();
