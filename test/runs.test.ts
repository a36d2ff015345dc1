import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { loadConfig } from '../src/config/config.js';
import { parseVerifierKey } from '../src/core/tlog/index.js';
import { formatRunReceipt, verifyRunReceipt } from '../src/core/runs/run-receipt.js';
import { sealDocumentOfSealed, sealResult, sealResultHash, sealRoot } from '../src/core/runs/seal.js';
import type { RunDoc } from '../src/core/runs/run-doc.js';
import { sha256Hex } from '../src/core/hash.js';
import type { Signer } from '../src/sdk/sign.js';
import { packageRoot } from '../src/util/package-root.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk } from './support/stage-helpers.js';

const example = () => JSON.parse(readFileSync(join(packageRoot(), 'examples', 'run-contract.json'), 'utf8')) as Record<string, any>;
const contract = (id: string, extra: Record<string, unknown> = {}) => ({ ...example(), id, ...extra });
const file = (name: string, content = name) => ({ name, size: Buffer.byteLength(content), sha256: sha256Hex(content) });

/** The runs pack through the real pipeline, store and policy (docs/runs.md). */
describeEachBackend('the runs pack', (backend) => {
  let h: Harness;
  let runner: Signer;
  let lead: Signer;
  let nobody: Signer;
  before(async () => {
    h = await startHarness({ limits: { rate: 100_000 } } as never, { backend });
    runner = await h.actor('rita', ['runner']);
    lead = await h.actor('leo', ['run-lead']);
    nobody = await h.actor('nora');
  });
  after(() => h.close());

  const as = (signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, { requestId: rid() }, signer));
  const run = async (id: string) => (await h.get(`/v1/entities/${h.tenant}/run/${id}`)).body;
  const logSize = async (scroll: string) => ((await h.get('/v1/logs')).body.logs as Array<{ tenant: string; scroll: string; size: number }>).find((l) => l.tenant === h.tenant && l.scroll === scroll)?.size ?? 0;
  /** Asserts the command is refused with `code`, leaving the run exactly as it was. */
  async function refused(signer: Signer, action: string, payload: Record<string, unknown>, code: 'INVALID_PAYLOAD' | 'INVALID_STATE' | 'NOT_FOUND' | 'FORBIDDEN', runId = String(payload.runId ?? payload.id)) {
    const before = await run(runId);
    const res = await as(signer, action, payload);
    assertError(res, code, action);
    assert.match(res.body.receipt.log, /\/runs$/, 'a refusal is recorded in the runs log, not a domain log');
    assert.deepEqual(await run(runId), before, 'the run did not change');
    return res.body;
  }
  const complete = (runId: string, stageId: string, outputs = [file(`${stageId}.md`)], signer = runner) => as(signer, 'CompleteStage', { runId, stageId, outcome: 'passed', outputs });

  describe('StartRun', () => {
    it('creates a pending run, written to the log of its domain', async () => {
      const body = assertOk(await as(runner, 'StartRun', contract('start-1')));
      assert.match(body.receipt.log, /\/default\/runs-drills$/);
      const r = await run('start-1');
      assert.equal(r.scroll, 'runs-drills');
      assert.equal(r.doc.status, 'pending');
      assert.equal(r.doc.startedBy, 'rita');
      assert.deepEqual(r.doc.contract, contract('start-1'));
      assert.deepEqual(r.doc.stages.map((s: any) => [s.id, s.status]), [['recon', 'pending'], ['ot-mapping', 'pending'], ['triage', 'pending']]);
    });

    it('refuses a contract that fails its schema, and a second run with the same id', async () => {
      const noStages: Record<string, unknown> = contract('bad-1');
      delete noStages.stages;
      assertError(await as(runner, 'StartRun', noStages), 'INVALID_PAYLOAD');
      assertError(await as(runner, 'StartRun', contract('bad-2', { severity: 'apocalyptic' })), 'INVALID_PAYLOAD');
      assertError(await as(runner, 'StartRun', contract('bad-3', { domain: 'Drills/../x' })), 'INVALID_PAYLOAD');
      assertError(await as(runner, 'StartRun', contract('bad-4', { stages: Array.from({ length: 65 }, (_, i) => ({ ...example().stages[0], id: `s${i}` })) })), 'INVALID_PAYLOAD');
      assertError(await as(runner, 'StartRun', contract('bad-5', { stages: [example().stages[0], example().stages[0]] })), 'INVALID_PAYLOAD');
      for (const id of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'bad-5']) assert.equal((await run(id)).code, 'NOT_FOUND', id);
      const again = await refused(runner, 'StartRun', contract('start-1', { title: 'another' }), 'INVALID_STATE');
      assert.match(again.message, /exists already/);
    });
  });

  describe('CompleteStage', () => {
    before(async () => void assertOk(await as(runner, 'StartRun', contract('order-1'))));

    it('refuses a stage out of contract order, naming the next one', async () => {
      const body = await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'triage', outcome: 'passed', outputs: [] }, 'INVALID_STATE');
      assert.match(body.message, /next stage is recon/);
    });

    it('records the outcome and the manifest sorted by name, and moves the run to in_progress', async () => {
      assertOk(await complete('order-1', 'recon', [file('z.md'), file('inventory/devices.yaml'), file('a.png')]));
      const r = (await run('order-1')).doc as RunDoc;
      assert.equal(r.status, 'in_progress');
      assert.deepEqual(r.stages[0].outputs.map((o) => o.name), ['a.png', 'inventory/devices.yaml', 'z.md']);
      assert.equal(r.stages[0].completedBy, 'rita');
    });

    it('refuses a stage completed twice, and a stage the contract does not have', async () => {
      await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'recon', outcome: 'passed', outputs: [] }, 'INVALID_STATE');
      await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'nope', outcome: 'passed', outputs: [] }, 'NOT_FOUND');
      assertError(await complete('no-such-run', 'recon'), 'NOT_FOUND');
    });

    it('refuses manifest names that climb out of the folder, absolute, hidden or too long, duplicates and file-folder clashes', async () => {
      for (const name of ['../etc/passwd', 'a/../../b', '/etc/passwd', '.env', 'a//b', 'a\\b', 'x/./y', 'a'.repeat(201), 'ok/..']) {
        await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [file(name)] }, 'INVALID_PAYLOAD');
      }
      const dup = await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [file('a.md'), file('a.md', 'other')] }, 'INVALID_PAYLOAD');
      assert.match(dup.message, /listed twice/);
      const clash = await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [file('a'), file('a/b')] }, 'INVALID_PAYLOAD');
      assert.match(clash.message, /is a file/);
      await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [{ name: 'x', size: -1, sha256: '0'.repeat(64) }] }, 'INVALID_PAYLOAD');
      await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [{ name: 'x', size: 1, sha256: 'A'.repeat(64) }] }, 'INVALID_PAYLOAD');
    });

    it('refuses more than 256 outputs in a stage', async () => {
      const many = Array.from({ length: 257 }, (_, i) => file(`f${i}`));
      await refused(runner, 'CompleteStage', { runId: 'order-1', stageId: 'ot-mapping', outcome: 'passed', outputs: many }, 'INVALID_PAYLOAD');
    });

    it('refuses a stage that would bring the run past 1024 outputs', async () => {
      const stages = Array.from({ length: 5 }, (_, i) => ({ ...example().stages[0], id: `s${i}` }));
      assertOk(await as(runner, 'StartRun', contract('big-1', { stages })));
      for (let i = 0; i < 4; i++) assertOk(await complete('big-1', `s${i}`, Array.from({ length: 256 }, (_, j) => file(`f${j}`))));
      const body = await refused(runner, 'CompleteStage', { runId: 'big-1', stageId: 's4', outcome: 'passed', outputs: [file('one-more')] }, 'INVALID_PAYLOAD');
      assert.match(body.message, /at most 1024 outputs/);
    });

    it('takes stages in any order when the contract says stageOrder any', async () => {
      assertOk(await as(runner, 'StartRun', contract('any-1', { stageOrder: 'any' })));
      assertOk(await complete('any-1', 'triage'));
      assertOk(await complete('any-1', 'recon'));
      assert.equal((await run('any-1')).doc.status, 'in_progress');
      assertOk(await complete('any-1', 'ot-mapping'));
      assert.equal((await run('any-1')).doc.status, 'completed');
    });
  });

  describe('SealRun', () => {
    let sealed: { body: any; run: any };
    before(async () => {
      assertOk(await as(runner, 'StartRun', contract('seal-1')));
      assertOk(await complete('seal-1', 'recon', [file('inventory.yaml'), file('topology.png')]));
      assertOk(await complete('seal-1', 'ot-mapping'));
    });

    it('refuses to seal a run whose stages are not all done', async () => {
      const body = await refused(lead, 'SealRun', { runId: 'seal-1' }, 'INVALID_STATE');
      assert.match(body.message, /in_progress/);
    });

    it('seals a completed run: the record in runs-drills commits to the root of the seal document', async () => {
      assertOk(await complete('seal-1', 'triage', []));
      const size = await logSize('runs-drills');
      const body = assertOk(await as(lead, 'SealRun', { runId: 'seal-1' }));
      assert.match(body.receipt.log, /\/runs-drills$/);
      assert.equal(body.receipt.index, size);
      const r = await run('seal-1');
      assert.equal(r.doc.status, 'sealed');
      const doc = sealDocumentOfSealed(h.tenant, r.doc);
      assert.equal(doc.status, 'completed');
      assert.equal(body.result.root, sealRoot(doc));
      assert.deepEqual(body.result, sealResult(doc, r.doc.seal.root));
      const record = (await h.get(`/v1/ledger/${h.tenant}/runs-drills/records?from=${body.receipt.index}&limit=1`)).body.records[0];
      assert.equal(record.record.action, 'SealRun');
      assert.equal(record.record.resultHash, sealResultHash(body.result));
      sealed = { body, run: r };
    });

    it('refuses to complete, abort or seal a sealed run, changing nothing', async () => {
      await refused(runner, 'CompleteStage', { runId: 'seal-1', stageId: 'triage', outcome: 'passed', outputs: [] }, 'INVALID_STATE');
      await refused(runner, 'AbortRun', { runId: 'seal-1', reason: 'late' }, 'INVALID_STATE');
      const again = await refused(lead, 'SealRun', { runId: 'seal-1' }, 'INVALID_STATE');
      assert.match(again.message, /sealed already/);
    });

    it("gives a run receipt that verifies offline with the verifier key, and fails once the seal document is changed", async () => {
      const proof = (await h.get(`/v1/logs/${h.tenant}/runs-drills/receipts/${sealed.body.receipt.index}?wait=true`)).body as string;
      const key = parseVerifierKey(h.init.verifierKey);
      const text = formatRunReceipt(sealDocumentOfSealed(h.tenant, sealed.run.doc), proof);
      const ok = await verifyRunReceipt(text, key);
      assert.equal(ok.root, sealed.body.result.root);
      assert.equal(ok.seal.stages[0].outputs.length, 2);
      const forged = JSON.parse(text);
      forged.seal.stages[0].outputs[0].sha256 = sha256Hex('forged');
      await assert.rejects(verifyRunReceipt(JSON.stringify(forged), key), (e: any) => e.code === 'PROOF_INVALID' && /was changed/.test(e.message));
      const escaping = JSON.parse(text);
      escaping.seal.stages[0].outputs[0].name = '../../etc/passwd';
      await assert.rejects(verifyRunReceipt(JSON.stringify(escaping), key), (e: any) => e.code === 'PROOF_INVALID' && /output name/.test(e.message));
    });
  });

  describe('AbortRun', () => {
    it('ends an open run; it cannot take stages any more, and seals as aborted', async () => {
      assertOk(await as(runner, 'StartRun', contract('abort-1')));
      assertOk(await complete('abort-1', 'recon'));
      assertOk(await as(runner, 'AbortRun', { runId: 'abort-1', reason: 'the lab lost power' }));
      await refused(runner, 'CompleteStage', { runId: 'abort-1', stageId: 'ot-mapping', outcome: 'passed', outputs: [] }, 'INVALID_STATE');
      await refused(runner, 'AbortRun', { runId: 'abort-1', reason: 'twice' }, 'INVALID_STATE');
      const body = assertOk(await as(lead, 'SealRun', { runId: 'abort-1' }));
      const doc = sealDocumentOfSealed(h.tenant, (await run('abort-1')).doc);
      assert.equal(doc.status, 'aborted');
      assert.equal(doc.abort?.reason, 'the lab lost power');
      assert.equal(body.result.root, sealRoot(doc));
    });
  });

  describe('policy and reads', () => {
    it('lets a runner start and complete but not seal; a run lead seals; an actor without a role does nothing', async () => {
      await refused(nobody, 'StartRun', contract('pol-1'), 'FORBIDDEN');
      assertOk(await as(runner, 'StartRun', contract('pol-1', { stages: [example().stages[0]] })));
      await refused(nobody, 'CompleteStage', { runId: 'pol-1', stageId: 'recon', outcome: 'passed', outputs: [] }, 'FORBIDDEN');
      assertOk(await complete('pol-1', 'recon'));
      await refused(runner, 'SealRun', { runId: 'pol-1' }, 'FORBIDDEN');
      assertOk(await as(lead, 'SealRun', { runId: 'pol-1' }));
    });

    it('refuses an unauthenticated read of a run', async () => {
      const res = await h.getAs(`/v1/entities/${h.tenant}/run/seal-1`, null);
      assert.equal(res.status, 401);
    });

    it('keeps the ledger replayable: writ verify recomputes every run from the runs-<domain> logs', async () => {
      const report = await verifyHome(loadConfig(h.home), { progress: false });
      assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
      assert.ok(report.state!.versions.replayed > 10, JSON.stringify(report.state));
    });
  });
});
