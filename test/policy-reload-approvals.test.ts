import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { approve, calls, cluster, clusterExecutor, modePolicy, opDoc, opEnds, startOpsHome, submitOp, type OpsHome } from './support/ops.js';
import { reloadPolicy } from './support/policy-reload.js';

/**
 * Commands held for approval under one policy set and decided under another (DESIGN §5: at
 * execution the command is re-checked against policy). The requirement a command was held under
 * stays (its approvals were given to it); whether policy still allows it is asked of the set in
 * force when it is about to run.
 */
describe('policy reload and commands held for approval', () => {
  let o: OpsHome;
  const ops = () => join(o.h.home, 'policies', 'ops.cedar');
  const deploy = (id: string, version: string) => submitOp(o.h, o.operator, { id, kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version } });

  before(async () => {
    o = await startOpsHome('manual', (state) => ({ deploy: clusterExecutor(state) }));
  });
  after(() => o.h.close());

  it('holds a deploy under manual; once auto is in force it still waits for the quorum it was held under, and runs at the second approval', async () => {
    const { h } = o;
    const sub = await deploy('dep-auto', '2.0.0');
    assert.equal(sub.status, 202, sub.raw);
    writeFileSync(ops(), modePolicy('auto'));
    assert.equal((await reloadPolicy(h)).body.status, 'reloaded');
    // New ops run at once now…
    const fresh = await deploy('dep-new', '2.1.0');
    assert.equal(fresh.status, 200, fresh.raw);
    assert.equal((await opEnds(h, 'dep-new')).status, 'succeeded');
    // …but the held one keeps its requirement: one approval of two runs nothing.
    const { id } = sub.body.approval;
    assert.equal((await approve(h, o.approvers[0], id, sub.body.commandHash)).status, 200);
    await sleep(200);
    assert.equal(await opDoc(h, 'dep-auto'), null);
    assert.equal((await approve(h, o.approvers[1], id, sub.body.commandHash)).status, 200);
    assert.equal((await opEnds(h, 'dep-auto')).status, 'succeeded');
    assert.equal(cluster(o.state).resources['prod/api'].version, '2.0.0');
  });

  it('refuses at its second approval a deploy held under manual that a reloaded forbid now denies (FORBIDDEN), and nothing runs', async () => {
    const { h } = o;
    writeFileSync(ops(), modePolicy('manual'));
    assert.equal((await reloadPolicy(h)).body.status, 'reloaded');
    const sub = await deploy('dep-forbid', '3.0.0');
    assert.equal(sub.status, 202, sub.raw);
    writeFileSync(join(h.home, 'policies', 'freeze.cedar'), 'forbid (principal, action == Writ::Action::"SubmitOp", resource) when { context.payload.kind == "deploy" };\n');
    assert.equal((await reloadPolicy(h)).body.status, 'reloaded');
    const ran = calls(o.state).length;
    const { id } = sub.body.approval;
    assert.equal((await approve(h, o.approvers[0], id, sub.body.commandHash)).status, 200);
    const second = await approve(h, o.approvers[1], id, sub.body.commandHash);
    assert.equal(second.status, 200, second.raw);
    assert.deepEqual(second.body.result.outcome, { status: 'ERROR', code: 'FORBIDDEN' });
    const final = await h.get(`/v1/commands/${h.tenant}/${sub.body.requestId}`);
    assert.equal(final.body.code, 'FORBIDDEN', JSON.stringify(final.body));
    assert.ok(final.body.details.policies.includes('policies/freeze.cedar#0'), JSON.stringify(final.body.details));
    await sleep(200);
    assert.equal(await opDoc(h, 'dep-forbid'), null, 'no op was created');
    assert.equal(calls(o.state).length, ran, 'the executor did not run');
  });
});
