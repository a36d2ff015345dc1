import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runWrit, startServer, type ServerChild } from './support/cli.js';
import { calls, cluster, clusterExecutor, setOps, startOpsHome, type OpsHome } from './support/ops.js';

/**
 * SIGKILL of `writ serve` while the effector's executor runs: the op stays running past its
 * deadline and `writ ops status` reports it; the next effector marks the attempt lost and runs the
 * op again with the same idempotency key, so the idempotent executor changes the cluster once.
 * Everything through the CLI, as an operator would.
 */

async function ops(home: string, url: string, ...args: string[]): Promise<any> {
  const r = await runWrit(['--home', home, '--url', url, 'ops', ...args]);
  assert.ok(r.code === 0 || r.code === 3, `writ ops ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return { ...JSON.parse(r.stdout), stderr: r.stderr };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('a writ killed while an op executes', () => {
  let o: OpsHome;
  let home: string;
  const servers: ServerChild[] = [];
  const executors = (state: string) => ({ deploy: clusterExecutor(state, ['--sleep-ms', '1500'], { timeoutMs: 2500 }) });

  before(async () => {
    o = await startOpsHome('auto', executors, { graceMs: 500 });
    home = o.h.home;
    // The in-process writ steps aside: from here on writ runs as `writ serve` children.
    await o.h.app.close();
    await o.h.writ.close();
    // The operator signs with the CLI's --key (its key file).
    writeFileSync(join(home, 'keys', 'olga.key'), (o.operator as any).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('does not execute twice, reports the gap, and ends the op on the next attempt', async () => {
    const first = startServer(home);
    servers.push(first);
    let url = await first.ready;
    const as = ['--key', join(home, 'keys', 'olga.key'), '--key-id', 'olga#1'];
    const sub = await ops(home, url, 'submit', 'deploy', 'prod', 'api', '--param', 'version=2.0.0', '--id', 'dep-1', ...as);
    assert.equal(sub.result.status, 'pending', JSON.stringify(sub));
    // The executor applied the deploy and is still running: kill writ now.
    await until('the deploy to be applied', async () => (calls(o.state).length > 0 && cluster(o.state).applied ? true : undefined));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    assert.equal(cluster(o.state).resources['prod/api'].version, '2.0.0');

    // A writ without its effector: the op is left running, and once its deadline passes the gap is reported.
    setOps(o.h, 'auto', executors(o.state), { graceMs: 500, enabled: false });
    const second = startServer(home);
    servers.push(second);
    url = await second.ready;
    const shown = await ops(home, url, 'show', 'dep-1');
    assert.equal(shown.status, 'running');
    assert.equal(shown.attempts, 1);
    const report = await until('the op to be overdue', async () => {
      const r = await ops(home, url, 'status');
      return r.overdue.length ? r : undefined;
    });
    assert.deepEqual(report.overdue.map((x: any) => [x.op, x.attempt]), [['dep-1', 1]]);
    assert.match(report.stderr, /op dep-1 is running attempt 1 past its deadline/);
    await second.stop();

    // The effector back: the lost attempt is recorded, the op runs again with the same key, once.
    setOps(o.h, 'auto', executors(o.state), { graceMs: 500 });
    const third = startServer(home);
    servers.push(third);
    url = await third.ready;
    const done = await until('the op to end', async () => {
      const d = await ops(home, url, 'show', 'dep-1');
      return d.status === 'succeeded' || d.status === 'failed' ? d : undefined;
    });
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(done.lost.map((l: any) => l.attempt), [1]);
    assert.deepEqual(done.results.map((r: any) => [r.attempt, r.outcome]), [[2, 'succeeded']]);
    const runs = calls(o.state);
    assert.equal(runs.length, 2, 'the executor was called twice');
    assert.equal(new Set(runs.map((c) => c.key)).size, 1, 'with the same idempotency key');
    assert.deepEqual(Object.keys(cluster(o.state).before), ['dep-1'], 'and changed the cluster once');
    const status = await ops(home, url, 'status');
    assert.deepEqual(status.lostAttempts.map((x: any) => x.op), ['dep-1']);
    assert.equal(status.overdue.length, 0);

    // A rollback with lineage, through the CLI.
    const rb = await ops(home, url, 'rollback', 'dep-1', '--id', 'rb-1', ...as);
    assert.equal(rb.result.undoes, 'dep-1', JSON.stringify(rb));
    await until('the rollback to end', async () => ((await ops(home, url, 'show', 'rb-1')).status === 'succeeded' ? true : undefined));
    assert.equal(cluster(o.state).resources['prod/api'].version, null);
    const list = await runWrit(['--home', home, '--url', url, 'ops', 'list']);
    const rows = JSON.parse(list.stdout);
    assert.deepEqual(rows.map((r: any) => [r.op, r.status, r.rollbackOf, r.rolledBackBy]), [['dep-1', 'succeeded', null, 'rb-1'], ['rb-1', 'succeeded', 'dep-1', null]]);
  });
});
