import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { packageRoot } from '../../src/util/package-root.js';

export const ROOT = packageRoot();
export const BIN = join(ROOT, 'bin', 'writ');

/** The child's environment: ours without WRIT_HOME, so only --home decides the home. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.WRIT_HOME;
  return env;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/writ …args` from the package root and collects its output. */
export function runWrit(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface ServerChild {
  /** Resolves to the base URL once the server prints its `writ serving` line; rejects if it exits first. */
  readonly ready: Promise<string>;
  readonly child: ChildProcess;
  /** Everything the server wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Sends SIGTERM and waits for the process to exit; SIGKILL if it has not after the grace period. */
  stop(): Promise<void>;
}

/**
 * Starts `writ serve --port 0` as a child process. The handle is returned at once, so that the
 * caller can always stop the child; `ready` waits for its `{"msg":"writ serving","url":…}` line
 * (other JSON log lines may come first).
 */
export function startServer(home: string): ServerChild {
  const child = spawn(process.execPath, [BIN, '--home', home, 'serve', '--port', '0'], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(grace);
  };
  const ready = new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let parsed: { msg?: string; url?: string } | undefined;
        try {
          parsed = JSON.parse(line) as { msg?: string; url?: string };
        } catch {
          continue;
        }
        if (parsed?.msg === 'writ serving' && typeof parsed.url === 'string') {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve(parsed.url);
          return;
        }
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`writ serve exited with ${code} before serving:\n${err}`)));
    child.once('error', reject);
  });
  return { ready, child, stderr: () => err, stop };
}

/** A home of its own served by a real `writ serve` for one suite (servedHome). */
export interface ServedHome {
  /** The temp folder holding the home (and anything else the suite writes); removed after the suite. */
  readonly scratch: string;
  readonly home: string;
  /** The server, once the suite's `before` has run. */
  server(): ServerChild;
  /** Runs `writ --home <home> --url <server> …args`. */
  writ(...args: string[]): Promise<CliRun>;
}

/**
 * Makes a home with `writ init …initArgs` in a temp folder and serves it with `writ serve` for the
 * suite it is called in (its own `before` and `after`): the CLI suites' common fixture.
 */
export function servedHome(prefix: string, initArgs: readonly string[] = []): ServedHome {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const home = join(scratch, 'home');
  let server: ServerChild | undefined;
  let url = '';
  before(async () => {
    const init = await runWrit(['--home', home, 'init', ...initArgs]);
    assert.equal(init.code, 0, init.stderr);
    server = startServer(home);
    url = await server.ready;
  });
  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  return {
    scratch,
    home,
    server: () => server ?? assert.fail('the server starts in the suite\'s before hook'),
    writ: (...args) => runWrit(['--home', home, '--url', url, ...args]),
  };
}
