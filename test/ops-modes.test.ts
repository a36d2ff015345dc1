import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { approve, calls, cluster, clusterExecutor, opDoc, opEnds, setMode, startOpsHome, submitOp, type Mode, type OpsHome } from './support/ops.js';
import { reloadPolicy, writRecords } from './support/policy-reload.js';

/**
 * Modes are policy alone (docs/ops.md, "Modes"): the shipped examples/ops/*.cedar, with real
 * executors — the example cluster script on a state file, and a local HTTP service. A mode is
 * switched by replacing the policy file and reloading it (`writ policy reload`), without a restart.
 */

/** A local HTTP "restart" service: counts the restarts it did, once per Idempotency-Key. */
class RestartService {
  readonly keys = new Map<string, number>();
  calls = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        this.calls++;
        const key = String(req.headers['idempotency-key']);
        const op = JSON.parse(body);
        if (!this.keys.has(key)) this.keys.set(key, op.parameters.graceSeconds ?? 0);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ restarted: op.resource }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/restart`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server!.close(() => r()));
  }
}

describe('ops modes are policy alone', () => {
  describe('manual: a deploy waits for two of three ops-approvers', () => {
    let o: OpsHome;
    before(async () => {
      o = await startOpsHome('manual', (state) => ({ deploy: clusterExecutor(state) }));
    });
    after(() => o.h.close());

    it('holds the deploy, does not run it on one approval, runs it exactly once at the second, and records the result', async () => {
      const { h } = o;
      const sub = await submitOp(h, o.operator, { id: 'dep-1', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '2.0.0' } });
      assert.equal(sub.status, 202, sub.raw);
      const { id: approvalId } = sub.body.approval;
      assert.equal(await opDoc(h, 'dep-1'), null, 'a held op has no op entity yet');
      const first = await approve(h, o.approvers[0], approvalId, sub.body.commandHash);
      assert.equal(first.status, 200, first.raw);
      await sleep(300);
      assert.equal(calls(o.state).length, 0, 'one approval of two runs nothing');
      assert.equal(await opDoc(h, 'dep-1'), null);
      const second = await approve(h, o.approvers[1], approvalId, sub.body.commandHash);
      assert.equal(second.status, 200, second.raw);
      const op = await opEnds(h, 'dep-1');
      assert.equal(op.status, 'succeeded', JSON.stringify(op));
      assert.equal(calls(o.state).length, 1, 'executed once');
      assert.equal(cluster(o.state).resources['prod/api'].version, '2.0.0');
      assert.equal(op.results.length, 1);
      const r = op.results[0];
      assert.equal(r.exitStatus, 0);
      assert.equal(r.by, 'effector');
      assert.match(r.stdout.sha256, /^[0-9a-f]{64}$/);
      assert.ok(r.stdout.size > 0);
      assert.equal(op.requestId, sub.body.requestId, "the op's idempotency key is the SubmitOp's requestId");
      // The ledger shows intent, approval, execution and result, in order.
      const recs = await h.get(`/v1/ledger/${h.tenant}/ops/records`);
      const actions = recs.body.records.map((x: any) => `${x.record.action}:${x.record.outcome}`);
      assert.deepEqual(actions, ['SubmitOp:PENDING', 'SubmitOp:OK', 'StartOpAttempt:OK', 'RecordOpResult:OK']);
    });

    it('refuses a result from anyone but the effector, even an admin a home policy grants the whole pack', async () => {
      const { h } = o;
      writeFileSync(join(h.home, 'policies', 'admins-ops.cedar'), 'permit (principal in Writ::Role::"admin", action in Writ::Action::"pack:ops", resource);\n');
      assert.equal((await reloadPolicy(h)).body.status, 'reloaded');
      for (const action of ['StartOpAttempt', 'RecordOpResult']) {
        const payload = action === 'StartOpAttempt' ? { opId: 'dep-1', attempt: 2, timeoutMs: 1000 } : { opId: 'dep-1', attempt: 1, outcome: 'failed', final: true, durationMs: 1 };
        const res = await h.post(h.sign(action, payload));
        assert.equal(res.status, 403, res.raw);
        assert.equal(res.body.code, 'FORBIDDEN');
      }
      assert.equal((await opDoc(h, 'dep-1')).status, 'succeeded');
    });

    it("refuses the effector's own key a result out of sequence (an op that is not running)", async () => {
      const { h } = o;
      const res = await h.post(h.sign('RecordOpResult', { opId: 'dep-1', attempt: 1, outcome: 'failed', final: true, durationMs: 1 }, {}, o.effector));
      assert.equal(res.body.code, 'INVALID_STATE', res.raw);
      const op = await opDoc(h, 'dep-1');
      assert.deepEqual([op.status, op.results.length], ['succeeded', 1]);
    });
  });

  describe('hybrid: restart runs at once, secret_update waits', () => {
    let o: OpsHome;
    const service = new RestartService();
    before(async () => {
      await service.start();
      o = await startOpsHome('hybrid', (state) => ({ restart: { kind: 'http', url: service.url, timeoutMs: 5000 }, secret_update: clusterExecutor(state) }));
    });
    after(async () => {
      await o.h.close();
      await service.close();
    });

    it('auto-runs a restart through the HTTP service and holds a secret_update for approvers', async () => {
      const { h } = o;
      const restart = await submitOp(h, o.operator, { id: 'rs-1', kind: 'restart', workspace: 'prod', resource: 'api', parameters: { graceSeconds: 5 } });
      assert.equal(restart.status, 200, restart.raw);
      const op = await opEnds(h, 'rs-1');
      assert.equal(op.status, 'succeeded', JSON.stringify(op));
      assert.equal(op.results[0].exitStatus, 200);
      assert.deepEqual([...service.keys], [[restart.body.requestId, 5]]);
      const secret = await submitOp(h, o.operator, { id: 'sec-1', kind: 'secret_update', workspace: 'prod', resource: 'api', parameters: { secretRef: 'vault/prod/api-token' } });
      assert.equal(secret.status, 202, secret.raw);
      await sleep(300);
      assert.equal(await opDoc(h, 'sec-1'), null);
      assert.equal(calls(o.state).length, 0, 'the held secret_update did not run');
    });
  });

  describe('switching mode by replacing the policy and reloading it, on the same running writ', () => {
    let o: OpsHome;
    before(async () => {
      o = await startOpsHome('auto', (state) => ({ scale: clusterExecutor(state), restart: clusterExecutor(state) }));
    });
    after(() => o.h.close());

    /** Replaces policies/ops.cedar with the mode's example and reloads it: no restart, no other change. */
    async function switchTo(mode: Mode): Promise<void> {
      setMode(o.h, mode);
      const res = await reloadPolicy(o.h);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'reloaded');
    }
    const scale = (id: string, replicas: number) => submitOp(o.h, o.operator, { id, kind: 'scale', workspace: 'prod', resource: 'web', parameters: { replicas } });

    it('runs a scale at once under auto, holds it under manual, runs a restart but holds a scale under hybrid, and runs a scale at once under auto again', async () => {
      const { h } = o;
      const writ = h.writ;
      const a = await scale('sc-1', 3);
      assert.equal(a.status, 200, a.raw);
      assert.equal((await opEnds(h, 'sc-1')).status, 'succeeded');
      assert.equal(cluster(o.state).resources['prod/web'].replicas, 3);

      await switchTo('manual');
      const m = await scale('sc-2', 5);
      assert.equal(m.status, 202, m.raw);
      await sleep(300);
      assert.equal(cluster(o.state).resources['prod/web'].replicas, 3);

      await switchTo('hybrid');
      const r = await submitOp(h, o.operator, { id: 'rs-1', kind: 'restart', workspace: 'prod', resource: 'web', parameters: { graceSeconds: 0 } });
      assert.equal(r.status, 200, r.raw);
      assert.equal((await opEnds(h, 'rs-1')).status, 'succeeded');
      assert.equal(cluster(o.state).resources['prod/web'].restarts, 1);
      const hs = await scale('sc-3', 6);
      assert.equal(hs.status, 202, hs.raw);

      await switchTo('auto');
      const b = await scale('sc-4', 4);
      assert.equal(b.status, 200, b.raw);
      await opEnds(h, 'sc-4');
      assert.equal(cluster(o.state).resources['prod/web'].replicas, 4);
      assert.equal(h.writ, writ, 'the same running writ throughout');
      // The ledger names each set put in force, in order: manual, hybrid, auto.
      const sets = (await writRecords(h)).filter((x) => x.action === 'writ.RecordPolicy');
      assert.equal(sets.length, 3);
    });
  });
});
