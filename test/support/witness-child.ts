import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN } from './cli.js';

export interface WitnessChild {
  readonly name: string;
  readonly url: string;
  readonly vkey: string;
  stop(): Promise<void>;
}

/**
 * Starts `writ witness serve --port 0` in a witness-only home at `dir` that follows every log under
 * the origin prefix `writ.local` signed by `logVkey`, and waits for its `writ witness serving` line.
 */
export async function startWitness(dir: string, logVkey: string, timeoutMs = 20_000): Promise<WitnessChild> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ witness: { name: 'witness.example/w1', logs: [{ originPrefix: 'writ.local', vkey: logVkey }] } }));
  const child = spawn(process.execPath, [BIN, '--home', dir, 'witness', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const line = await new Promise<{ name: string; url: string; vkey: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writ witness serve did not start within ${timeoutMs} ms:\n${err}`)), timeoutMs);
      void exited.then(() => reject(new Error(`writ witness serve exited before serving:\n${err}`)));
      createInterface({ input: child.stdout }).on('line', (text) => {
        try {
          const m = JSON.parse(text) as { msg?: string; name: string; url: string; vkey: string };
          if (m.msg === 'writ witness serving') {
            clearTimeout(timer);
            resolve(m);
          }
        } catch {
          /* a log line that is not ours */
        }
      });
    });
    return { name: line.name, url: line.url, vkey: line.vkey, stop };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
