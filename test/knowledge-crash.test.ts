import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { initHome } from '../src/home/init.js';
import { perspectiveRef } from '../src/packs/knowledge/state.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { openWrit } from '../src/writ.js';

const CHILD = fileURLToPath(new URL('./support/knowledge-child.js', import.meta.url));

/** Runs the child writ; resolves with its exit (signal name when killed) and its output. */
function runChild(home: string, title: string, kill?: string): Promise<{ signal: string | null; code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, home, title], { env: { ...process.env, ...(kill ? { WRIT_TEST_KNOWLEDGE_KILL: kill } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

/** What the ledger, state and git say about the admin's perspective, read by a fresh writ (whose start-up repairs refs). */
async function observe(home: string): Promise<{ records: string[]; head: string | null; ref: string | null; verified: boolean }> {
  const config = loadConfig(home);
  const writ = await openWrit(config);
  try {
    const rows = await writ.store.readLedger(config.tenant, 'knowledge', 0, 100);
    const records = rows.map((r) => JSON.parse(r.leaf.toString('utf8')).outcome as string);
    const entity = await writ.store.getEntity(config.tenant, 'kip-perspective', config.admin);
    const head = (entity?.doc as { head: string } | undefined)?.head ?? null;
    let ref: string | null = null;
    try {
      ref = execFileSync('git', [`--git-dir=${join(config.knowledge.git, `${config.tenant}.git`)}`, 'rev-parse', '--verify', '--quiet', perspectiveRef(config.admin)], { encoding: 'utf8' }).trim();
    } catch {
      ref = null;
    }
    await writ.close();
    const report = await verifyHome(config, { progress: false });
    return { records, head, ref, verified: report.ok };
  } catch (err) {
    await writ.close();
    throw err;
  }
}

/**
 * Crash safety of a knowledge write (issue 13): a writ process is SIGKILLed at each step of a
 * KipCommit — after its git objects are written, after its ledger transaction is durable, after
 * its refs moved — and the next start-up must find git and the ledger agreeing, with nothing to
 * reconcile by hand.
 */
describe('a knowledge write killed with SIGKILL at each step', () => {
  const homes: string[] = [];
  after(() => {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });
  async function freshHome(): Promise<string> {
    const home = mkdtempSync(join(tmpdir(), 'writ-kcrash-'));
    homes.push(home);
    await initHome(home, { port: 0 });
    return home;
  }

  it('leaves no record, no state and no ref when killed after the objects and before the ledger transaction', async () => {
    const home = await freshHome();
    const run = await runChild(home, 'one', 'objects');
    assert.equal(run.signal, 'SIGKILL', run.out);
    const seen = await observe(home);
    assert.deepEqual(seen.records, []);
    assert.equal(seen.head, null);
    assert.equal(seen.ref, null);
    assert.ok(seen.verified);
  });

  it('moves the ref at start-up to the commit the ledger recorded when killed after the ledger transaction and before the refs', async () => {
    const home = await freshHome();
    const run = await runChild(home, 'two', 'ledger');
    assert.equal(run.signal, 'SIGKILL', run.out);
    const seen = await observe(home);
    assert.deepEqual(seen.records, ['OK']);
    assert.match(seen.head ?? '', /^[0-9a-f]{40}$/);
    assert.equal(seen.ref, seen.head, 'start-up moved the ref to the ledger head');
    assert.ok(seen.verified);
  });

  it('finds everything in agreement when killed after the refs moved', async () => {
    const home = await freshHome();
    const run = await runChild(home, 'three', 'refs');
    assert.equal(run.signal, 'SIGKILL', run.out);
    const seen = await observe(home);
    assert.deepEqual(seen.records, ['OK']);
    assert.equal(seen.ref, seen.head);
    assert.ok(seen.verified);
  });

  it('goes on from a repaired home: the next commit builds on the recorded head', async () => {
    const home = await freshHome();
    assert.equal((await runChild(home, 'four', 'ledger')).signal, 'SIGKILL');
    const next = await runChild(home, 'five');
    assert.equal(next.code, 0, next.out);
    const seen = await observe(home);
    assert.deepEqual(seen.records, ['OK', 'OK']);
    assert.equal(seen.ref, seen.head);
    const parent = execFileSync('git', [`--git-dir=${join(loadConfig(home).knowledge.git, `${loadConfig(home).tenant}.git`)}`, 'log', '--format=%s', seen.head!], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(parent, ['five', 'four']);
    assert.ok(existsSync(loadConfig(home).knowledge.git));
  });
});
