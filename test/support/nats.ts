import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * A real nats-server with JetStream for the tests (no mocks). `.ci/run` installs Debian's
 * `nats-server`; on a developer machine without it, tests skip with a visible message, but under CI
 * (CI=true) a missing server is a failure, never a silent skip.
 */

/** The nats-server binary: $NATS_SERVER, else the PATH, else Debian's /usr/sbin. */
export function natsServerBinary(): string | null {
  if (process.env.NATS_SERVER && existsSync(process.env.NATS_SERVER)) return process.env.NATS_SERVER;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, 'nats-server'))) return join(d, 'nats-server');
  }
  return null;
}

/**
 * Why NATS tests cannot run here, or null when they can. Under CI a missing server throws, so the
 * test fails loudly; elsewhere the caller passes the reason to `skip` (node:test prints it).
 */
export function natsUnavailable(): string | null {
  if (natsServerBinary()) return null;
  const why = 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER); NATS tests skipped';
  if (process.env.CI) throw new Error(`${why.replace('; NATS tests skipped', '')}: CI must run the NATS tests`);
  console.log(`# SKIP: ${why}`);
  return why;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode} before it listened on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One nats-server process with JetStream on a loopback port and its own store directory. */
export class NatsServer {
  #child: ChildProcess | null = null;
  readonly port: number;
  readonly storeDir: string;
  readonly #ownsDir: boolean;

  private constructor(port: number, storeDir: string, ownsDir: boolean) {
    this.port = port;
    this.storeDir = storeDir;
    this.#ownsDir = ownsDir;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null;
  }

  /** Starts a server on a free port (or `port`) with a fresh store directory (or `storeDir`). */
  static async start(options: { port?: number; storeDir?: string } = {}): Promise<NatsServer> {
    const port = options.port ?? (await freePort());
    const dir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'writ-nats-'));
    const server = new NatsServer(port, dir, options.storeDir === undefined);
    await server.restart();
    return server;
  }

  /** Starts the process again on the same port and store (after stop or kill): JetStream state survives. */
  async restart(): Promise<void> {
    if (this.running) return;
    const bin = natsServerBinary();
    if (!bin) throw new Error('nats-server is not installed (apt-get install nats-server)');
    const child = spawn(bin, ['-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(this.port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    this.#child = child;
    try {
      await waitForPort(this.port, child, 10_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${log}`);
    }
  }

  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). Resolves once it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
    this.#child = null;
  }

  /** Stops the server and removes its store directory when this object made it. */
  async close(): Promise<void> {
    await this.stop('SIGTERM');
    if (this.#ownsDir) rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** The server version, for test names and reports (`nats-server: v2.9.10`). */
export function natsServerVersion(): string | null {
  const bin = natsServerBinary();
  if (!bin) return null;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * A NATS URL for tests that only need a server, not control over it: `.ci/run` starts one and sets
 * WRIT_TEST_NATS_URL; elsewhere a server is started for the caller. `close` stops only what it started.
 * Tests that stop or crash the server use `NatsServer.start()` of their own.
 */
export async function sharedNats(): Promise<{ url: string; close(): Promise<void> }> {
  const given = process.env.WRIT_TEST_NATS_URL;
  if (given) return { url: given, close: async () => undefined };
  const server = await NatsServer.start();
  return { url: server.url, close: () => server.close() };
}

export interface Received {
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly body: any;
}

/** Every message of a stream, in stream order (a real JetStream read, not the dispatcher's view). */
export async function streamMessages(url: string, stream: string): Promise<Received[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => null);
    if (!info) return [];
    const out: Received[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m) out.push({ subject: m.subject, msgId: m.header?.get('Nats-Msg-Id'), body: m.json() });
    }
    return out;
  } finally {
    await nc.close();
  }
}
