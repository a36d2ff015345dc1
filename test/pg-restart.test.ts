import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { readAuthorization, type Signer } from '../src/sdk/sign.js';
import { describePostgres } from './support/backends.js';
import { ROOT } from './support/cli.js';
import { checkLedger, post, product, sharedHomes } from './support/pg-processes.js';
import { ServerProcess } from './support/robustness.js';

/**
 * PostgreSQL restarted under load (on a cluster of this test's own, so other suites keep theirs):
 * writ answers 503 UNAVAILABLE with Retry-After while the database is away, loses nothing it
 * acknowledged, and serves again by itself once the database is back; /healthz says so meanwhile.
 */
const CLUSTER = join(ROOT, '.ci', 'pg-cluster');

/** Polls `done` until it holds; fails naming `what` after a minute (a busy machine is slow, not broken). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, `not reached within 60 s: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePostgres('writ while PostgreSQL restarts', () => {
  let env: Record<string, string> = {};
  let homes: string[] = [];
  let proc: ServerProcess | undefined;
  let admin: Signer;
  let tenant: string;

  const pgCtl = (...args: string[]) => {
    const ctl = join(env.WRIT_TEST_PG_BIN!, 'pg_ctl');
    const argv = [ctl, '-D', env.WRIT_TEST_PG_DATA!, '-w', ...args];
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...argv], { stdio: 'ignore' });
    else execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  };

  before(async () => {
    const out = execFileSync(CLUSTER, ['start'], { encoding: 'utf8' });
    env = Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    ({ homes, admin, tenant } = await sharedHomes(env.WRIT_TEST_PG_URL!, 0, { limits: { rate: 100_000_000, windowSeconds: 60 } }));
    proc = await ServerProcess.start(homes[0]!, 180_000);
  });

  after(async () => {
    await proc?.kill();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    if (env.WRIT_TEST_PG_DATA) execFileSync(CLUSTER, ['stop', env.WRIT_TEST_PG_DATA]);
  });

  it('answers 503 UNAVAILABLE with Retry-After while the database is down, keeps every acknowledged command, and recovers by itself', async () => {
    const acknowledged: string[] = [];
    const answers = new Map<string, unknown>();
    const refusals: Array<{ status: number; retryAfter: string | null; code: unknown }> = [];
    let stop = false;
    const client = async (c: number) => {
      for (let n = 0; !stop || n < 5; n++) {
        const envelope = product(admin, tenant, `sku-${c}-${n}`, n);
        for (let tries = 0; ; tries++) {
          const sent = await post(proc!.url, envelope);
          if (sent.status === 200) {
            acknowledged.push(sent.requestId);
            answers.set(sent.requestId, { replayed: sent.replayed, receipt: sent.body.receipt, refusedBefore: tries });
            break;
          }
          assert.ok(proc!.alive, `writ serve died:\n${proc!.output}`);
          assert.ok(refusals.length < 10_000, 'writ did not recover');
          refusals.push({ status: sent.status, retryAfter: sent.retryAfter, code: sent.body?.code });
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const clients = Array.from({ length: 6 }, (_, c) => client(c));
    await until(() => acknowledged.length >= 20, 'twenty commands acknowledged before the restart');
    pgCtl('stop', '-m', 'fast');
    await new Promise((r) => setTimeout(r, 2000));
    const during = acknowledged.length;
    pgCtl('start', '-l', join(env.WRIT_TEST_PG_DATA!, '..', 'server.log'));
    await until(() => acknowledged.length >= during + 20, 'twenty more commands acknowledged after the restart (writ recovering by itself)');
    stop = true;
    await Promise.all(clients);
    assert.ok(refusals.length > 0, 'no command was refused while the database was down');
    for (const r of refusals) {
      assert.equal(r.status, 503, JSON.stringify(r));
      assert.equal(r.code, 'UNAVAILABLE');
      assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`);
    }
    await checkLedger(env.WRIT_TEST_PG_URL!, acknowledged, answers).catch((err: Error) => {
      throw new Error(`${err.message}\nwrit serve said:\n${proc!.output}`);
    });
  });

  it('fails /healthz with 503 UNAVAILABLE and Retry-After while the database is down (why, for an operator only), and passes again once it is back', async () => {
    const healthz = async (asOperator: boolean) => {
      const headers: Record<string, string> = asOperator ? { authorization: readAuthorization({ ...admin, tenant }, 'GET', '/healthz') } : {};
      const res = await fetch(`${proc!.url}/healthz`, { headers });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
    };
    // The database was restarted by the test before: the probe may not have asked it again yet.
    let ok = await healthz(false);
    for (const deadline = Date.now() + 30_000; ok.status !== 200 && Date.now() < deadline; ok = await healthz(false)) await new Promise((r) => setTimeout(r, 200));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    pgCtl('stop', '-m', 'fast');
    let down = await healthz(false);
    for (const deadline = Date.now() + 15_000; down.status === 200 && Date.now() < deadline; down = await healthz(false)) await new Promise((r) => setTimeout(r, 200));
    assert.equal(down.status, 503, `/healthz answered ${down.status} ${JSON.stringify(down.body)} with the database stopped`);
    assert.equal(down.body.code, 'UNAVAILABLE');
    assert.ok(Number(down.retryAfter) >= 1, `Retry-After ${down.retryAfter}`);
    // The public answer names no host, port or driver error; an operator's says what is wrong.
    const port = new URL(env.WRIT_TEST_PG_URL!).port;
    assert.ok(!JSON.stringify(down.body).includes(port), JSON.stringify(down.body));
    const operator = await healthz(true);
    assert.equal(operator.status, 503);
    assert.match(operator.body.message, /PostgreSQL cannot be reached/);
    pgCtl('start', '-l', join(env.WRIT_TEST_PG_DATA!, '..', 'server.log'));
    let up = await healthz(false);
    for (const deadline = Date.now() + 30_000; up.status !== 200 && Date.now() < deadline; up = await healthz(false)) await new Promise((r) => setTimeout(r, 200));
    assert.equal(up.status, 200, `/healthz still answers ${up.status} ${JSON.stringify(up.body)} after the database came back`);
    assert.equal(up.body.status, 'ok');
  });
});
