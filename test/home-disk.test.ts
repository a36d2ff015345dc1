import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { initHome } from '../src/home/init.js';
import { openWrit } from '../src/writ.js';
import { BIN, ROOT, runWrit, startServer, type ServerChild } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

/** Waits for a child to exit and returns its exit code (or signal). */
function exitOf(s: ServerChild): Promise<number | string | null> {
  const { child } = s;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

describe('one writer per home: two real `writ serve` processes', () => {
  let home: string;
  const children: ServerChild[] = [];

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'writ-lock-'));
    await initHome(home, { port: 0 });
  });

  after(async () => {
    for (const c of children) await c.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses the second server, naming the first (pid, host, since, command) and what to do', async () => {
    const first = startServer(home);
    children.push(first);
    await first.ready;
    const second = startServer(home);
    children.push(second);
    await assert.rejects(second.ready, /exited/);
    assert.notEqual(await exitOf(second), 0);
    const said = second.stderr();
    assert.match(said, /in use by writ serve \(pid (\d+) on ([^,]+), since (\d{4}-\d\d-\d\dT[^)]+)\)/, said);
    const [, pid, host] = /pid (\d+) on ([^,]+),/.exec(said)!;
    assert.equal(Number(pid), first.child.pid);
    assert.equal(host, hostname());
    assert.match(said, /Stop that process first .*kill \d+.*or point this one at another home with --home/, said);
    // The first one still serves.
    assert.equal((await fetch(`${await first.ready}/healthz`)).status, 200);
  });

  it('lets `writ verify` read the home while the server runs', async () => {
    const run = await runWrit(['--home', home, 'verify', '--no-progress']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).ok, true);
  });

  it('takes the home over after the holder was killed with SIGKILL (no stale lock)', async () => {
    const first = children[0];
    first.child.kill('SIGKILL');
    await exitOf(first);
    const next = startServer(home);
    children.push(next);
    const url = await next.ready;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });

  it('refuses `writ start` on a running home as well', async () => {
    const again = await runWrit(['--home', home, 'start', '--port', '0'], {});
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /in use by writ serve \(pid \d+/, again.stderr);
  });
});

describe('one writer per home: in one process', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });

  after(async () => {
    await h.close();
  });

  it('refuses a second openWrit on a home whose writ runs, and lets a restart take it after close', async () => {
    await assert.rejects(openWrit(loadConfig(h.home), { command: 'a second writ' }), /in use by .*\(pid \d+ on /);
    await h.restart();
    assert.equal((await h.get('/healthz')).status, 200);
    await h.restart();
    assert.equal((await h.post(h.sign('UpsertProduct', { sku: 'after-restart', name: 'x', price: { amount: 1, currency: 'EUR' } }))).status, 200);
  });
});

/** Starts `writ witness serve --port 0`; resolves when it serves, rejects (with its stderr) when it exits first. */
function startWitness(home: string): { child: ChildProcess; ready: Promise<void>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, '--home', home, 'witness', 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"writ witness serving"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}):\n${err}`)));
  });
  return { child, ready, stderr: () => err };
}

describe('one writer per home: two real `writ witness serve` processes', () => {
  it('refuses the second witness on the same state, which could otherwise cosign two split views', async () => {
    const home = mkdtempSync(join(tmpdir(), 'writ-witness-lock-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ witness: { logs: [] } }));
    const first = startWitness(home);
    let second: ReturnType<typeof startWitness> | undefined;
    try {
      await first.ready;
      second = startWitness(home);
      await assert.rejects(second.ready, /exited/);
      assert.match(second!.stderr(), /in use by writ witness serve \(pid (\d+) on /, second.stderr());
      assert.ok(second!.stderr().includes(`pid ${first.child.pid} `), second!.stderr());
    } finally {
      for (const w of [first, second]) if (w && w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('the home on disk: file modes', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
    // A committed command, so that the WAL and its shared memory exist.
    await h.post(h.sign('UpsertProduct', { sku: 'modes', name: 'x', price: { amount: 1, currency: 'EUR' } }));
  });

  after(async () => {
    await h.close();
  });

  const mode = (path: string) => statSync(path).mode & 0o777;

  it('keeps the data folder 0700 and the database, its WAL, shared memory and lock files 0600', () => {
    const data = join(h.home, 'data');
    assert.equal(mode(data).toString(8), '700');
    for (const f of ['writ.db', 'writ.db-wal', 'writ.db-shm', 'writ.db-lock', 'writ.db-lock.json']) {
      assert.ok(existsSync(join(data, f)), `${f} exists`);
      assert.equal(mode(join(data, f)).toString(8), '600', f);
    }
  });

  it('keeps the keys folder 0700 and every private key 0600', () => {
    const keys = join(h.home, 'keys');
    assert.equal(mode(keys).toString(8), '700');
    const found = readdirSync(keys);
    assert.ok(found.includes('log.key') && found.includes('admin.key'), found.join(', '));
    for (const f of found) if (!f.endsWith('.pub')) assert.equal(mode(join(keys, f)).toString(8), '600', f);
  });
});
