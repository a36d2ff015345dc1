import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** writ serving a prepared home in its own process (bench/http-server.ts), as the benchmarks drive it. */
export interface BenchServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: URL;
  readonly durability: string;
  /** Writes a line to the server's stdin and resolves with its next JSON line. */
  ask(line: string): Promise<string>;
  stop(): Promise<void>;
}

/** Resident set size of a process in MiB, from /proc (Linux); NaN elsewhere. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

/** Starts bench/http-server.js on `home` (node flags first) and waits until it listens. */
export async function spawnBenchServer(home: string, nodeArgs: readonly string[] = []): Promise<BenchServer> {
  const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL('./http-server.js', import.meta.url)), home], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`))));
  exited.catch(() => undefined);
  // The server's answers are JSON lines; anything else on its stdout (V8 tracing flags) is skipped.
  const nextLine = () =>
    Promise.race([
      new Promise<string>((resolve) => {
        const take = (line: string) => {
          if (!line.startsWith('{')) return;
          lines.off('line', take);
          resolve(line);
        };
        lines.on('line', take);
      }),
      exited,
    ]);
  const { url, durability } = JSON.parse(await nextLine()) as { url: string; durability: string };
  return {
    child,
    pid: child.pid!,
    url: new URL(url),
    durability,
    ask(line) {
      const answer = nextLine();
      child.stdin!.write(line + '\n');
      return answer;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
