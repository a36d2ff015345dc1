import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) of each thread of this process, by thread id, from /proc (Linux). */
export function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks of 10 ms).
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * Names the threads writ starts in openWrit, from the order in which it constructs them (thread ids
 * are handed out in creation order, and `new Worker` starts its thread at once): the SQLite writer,
 * then the verify pool, then the intake pool. Threads not started by openWrit (V8's platform
 * threads, libuv's pool) are `other`; the event loop is `main`.
 */
export class ThreadLabels {
  private readonly labels = new Map<number, string>();

  constructor(before: ReadonlySet<number>, after: Iterable<number>, verifyWorkers: number) {
    const fresh = [...after].filter((t) => !before.has(t)).sort((a, b) => a - b);
    const names = ['writer', ...Array.from({ length: verifyWorkers }, () => 'verify'), ...Array.from({ length: verifyWorkers }, () => 'intake')];
    // Anything else started in openWrit would shift the order; then the names are not trusted.
    if (fresh.length === names.length) fresh.forEach((t, i) => this.labels.set(t, names[i]));
    this.labels.set(process.pid, 'main');
  }

  /** CPU seconds since `from`, summed by label. */
  split(from: Map<number, number>, to: Map<number, number>): Record<string, number> {
    const out: Record<string, number> = { main: 0, writer: 0, verify: 0, intake: 0, other: 0 };
    for (const [tid, cpu] of to) {
      const label = this.labels.get(tid) ?? 'other';
      out[label] += cpu - (from.get(tid) ?? 0);
    }
    return out;
  }
}
