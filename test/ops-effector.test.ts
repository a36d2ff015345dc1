import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeConfig } from '../src/config/config.js';
import { packageRoot } from '../src/util/package-root.js';
import { calls, cluster, clusterExecutor, opDoc, opEnds, setOps, startOpsHome, submitOp, type OpsHome } from './support/ops.js';

/** The effector with real executors: bounded retry, rollback lineage, expected versions, secrets by file, MCP tools. */

describe('the ops effector', () => {
  let o: OpsHome;
  const SECRET = 'tok-3f9a1c5e-never-in-the-ledger';
  before(async () => {
    o = await startOpsHome(
      'auto',
      (state) => ({
        deploy: clusterExecutor(state, [], { env: { TOKEN: { file: 'secrets/deploy-token' }, REQUIRE_TOKEN: SECRET } }),
        drain: clusterExecutor(state, ['--fail']),
        scale: { kind: 'mcp', command: process.execPath, args: [join(packageRoot(), 'test', 'fixtures', 'ops', 'mcp-cluster.mjs')], env: { CLUSTER_STATE: `${state}.mcp` }, tool: 'scale', timeoutMs: 10_000 },
      }),
      { maxAttempts: 3 },
    );
  });
  after(() => o.h.close());

  it('retries a failing executor up to the bound, records every attempt, then fails the op', async () => {
    const { h } = o;
    const sub = await submitOp(h, o.operator, { id: 'drn-1', kind: 'drain', workspace: 'prod', resource: 'pool', parameters: { node: 'n1' } });
    assert.equal(sub.status, 200, sub.raw);
    const op = await opEnds(h, 'drn-1');
    assert.equal(op.status, 'failed');
    assert.equal(op.attempts, 3);
    assert.deepEqual(op.results.map((r: any) => [r.attempt, r.outcome, r.exitStatus]), [[1, 'failed', 3], [2, 'failed', 3], [3, 'failed', 3]]);
    assert.ok(op.results.every((r: any) => r.stderr.size > 0 && /^[0-9a-f]{64}$/.test(r.stderr.sha256)));
    assert.equal(calls(o.state).filter((c) => c.op === 'drn-1').length, 3, 'three executions, no fourth');
  });

  it('reads a secret from its file at execution and never writes it to the ledger, the envelopes or the state', async () => {
    const { h } = o;
    mkdirSync(join(h.home, 'secrets'), { recursive: true });
    writeFileSync(join(h.home, 'secrets', 'deploy-token'), `${SECRET}\n`, { mode: 0o600 });
    const sub = await submitOp(h, o.operator, { id: 'dep-1', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '1.0.0' } });
    assert.equal(sub.status, 200, sub.raw);
    assert.equal((await opEnds(h, 'dep-1')).status, 'succeeded', 'the script got the token (it exits 4 without it)');
    // The effective config writ logs masks inline executor values (REQUIRE_TOKEN is one) and keeps file paths.
    const described = JSON.stringify(describeConfig(h.writ.config));
    assert.equal(described.includes(SECRET), false);
    assert.ok(described.includes('secrets/deploy-token'));
    // Closed, so that everything is in the database and WAL files as they would be read from disk.
    await h.writ.close();
    try {
      const wal = `${h.writ.config.store.path}-wal`;
      assert.equal(readFileSync(h.writ.config.store.path).includes(SECRET), false);
      assert.equal(existsSync(wal) && readFileSync(wal).includes(SECRET), false);
    } finally {
      await h.restart();
    }
  });

  it('rolls back a succeeded op with a forward op that runs the inverse, links both, and refuses to roll back the rollback', async () => {
    const { h } = o;
    const v2 = await submitOp(h, o.operator, { id: 'dep-2', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '2.0.0' } });
    assert.equal(v2.status, 200, v2.raw);
    await opEnds(h, 'dep-2');
    assert.equal(cluster(o.state).resources['prod/api'].version, '2.0.0');
    const rb = await h.post(h.sign('RollbackOp', { id: 'rb-1', undoes: 'dep-2', reason: 'errors after 2.0.0' }, {}, o.operator));
    assert.equal(rb.status, 200, rb.raw);
    const done = await opEnds(h, 'rb-1');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.rollbackOf, 'dep-2');
    assert.equal((await opDoc(h, 'dep-2')).rolledBackBy, 'rb-1');
    assert.equal(cluster(o.state).resources['prod/api'].version, '1.0.0', 'the inverse restored the state before dep-2');
    assert.ok(calls(o.state).some((c) => c.op === 'rb-1' && c.inverse));
    const again = await h.post(h.sign('RollbackOp', { id: 'rb-2', undoes: 'rb-1' }, {}, o.operator));
    assert.equal(again.status, 409, again.raw);
    assert.equal(again.body.code, 'ROLLBACK_OF_ROLLBACK');
    const twice = await h.post(h.sign('RollbackOp', { id: 'rb-3', undoes: 'dep-2' }, {}, o.operator));
    assert.equal(twice.body.code, 'INVALID_STATE', twice.raw);
    assert.equal(await opDoc(h, 'rb-2'), null);
  });

  it('refuses an op whose targetVersion is not the resource version, and counts succeeded ops into it', async () => {
    const { h } = o;
    const target = await h.get(`/v1/entities/${h.tenant}/op-target/prod.api`);
    assert.equal(target.status, 200);
    const v = target.body.version;
    const stale = await submitOp(h, o.operator, { id: 'dep-3', kind: 'deploy', workspace: 'prod', resource: 'api', targetVersion: v - 1, parameters: { version: '3.0.0' } });
    assert.equal(stale.body.code, 'VERSION_CONFLICT', stale.raw);
    const fresh = await submitOp(h, o.operator, { id: 'dep-4', kind: 'deploy', workspace: 'prod', resource: 'api', targetVersion: v, parameters: { version: '3.0.0' } });
    assert.equal(fresh.status, 200, fresh.raw);
    await opEnds(h, 'dep-4');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/op-target/prod.api`)).body.version, v + 1);
  });

  it('checks each kind’s parameters against its schema', async () => {
    const { h } = o;
    const bad = await submitOp(h, o.operator, { id: 'sc-x', kind: 'scale', workspace: 'prod', resource: 'web', parameters: { version: '1' } });
    assert.equal(bad.body.code, 'INVALID_PAYLOAD', bad.raw);
    const secretValue = await submitOp(h, o.operator, { id: 'sec-x', kind: 'secret_update', workspace: 'prod', resource: 'web', parameters: { secretRef: 'a', value: 'hunter2' } });
    assert.equal(secretValue.body.code, 'INVALID_PAYLOAD', 'a secret value has no place in an op');
  });

  it('calls a tool of a downstream MCP server as the executor', async () => {
    const { h } = o;
    const sub = await submitOp(h, o.operator, { id: 'sc-1', kind: 'scale', workspace: 'prod', resource: 'web', parameters: { replicas: 7 } });
    assert.equal(sub.status, 200, sub.raw);
    const op = await opEnds(h, 'sc-1');
    assert.equal(op.status, 'succeeded', JSON.stringify(op));
    assert.equal(op.results[0].exitStatus, 0);
    assert.equal(JSON.parse(readFileSync(`${o.state}.mcp`, 'utf8')).resources['prod/web'].replicas, 7);
  });
});

describe('an op whose attempt was lost, under ops.effector.overdue = fail', () => {
  let o: OpsHome;
  before(async () => {
    o = await startOpsHome('auto', (state) => ({ restart: clusterExecutor(state) }), { enabled: false });
  });
  after(() => o.h.close());

  it('is failed with the reason, not executed again', async () => {
    const { h } = o;
    assert.equal((await submitOp(h, o.operator, { id: 'rs-lost', kind: 'restart', workspace: 'prod', resource: 'api', parameters: {} })).status, 200);
    // An effector that started the attempt and was never heard of again (its process died).
    const started = await h.post(h.sign('StartOpAttempt', { opId: 'rs-lost', attempt: 1, timeoutMs: 100 }, {}, o.effector));
    assert.equal(started.status, 200, started.raw);
    await new Promise((r) => setTimeout(r, 300));
    setOps(h, 'auto', { restart: clusterExecutor(o.state) }, { overdue: 'fail' });
    await h.restart();
    const op = await opEnds(h, 'rs-lost');
    assert.equal(op.status, 'failed');
    assert.deepEqual(op.results.map((r: any) => [r.attempt, r.outcome, r.exitStatus]), [[1, 'failed', null]]);
    assert.match(op.results[0].error, /no result before the deadline/);
    assert.equal(calls(o.state).length, 0, 'never executed by this effector');
  });
});
