import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, type Held, type Post } from './support/approvals.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leaves, leavesFor, ManualClock } from './support/stage-helpers.js';

/**
 * Expiry at the TTL (DESIGN §5): a decision after it is refused APPROVAL_EXPIRED, and the expiry
 * itself is one ledger record by writ — written right after a late decision (lazily) or by the
 * sweeper, whichever notices first — which also ends the held command with APPROVAL_EXPIRED.
 */
describeEachBackend('expiry of a held command', (backend) => {
  const clock = new ManualClock();
  const TTL_MS = 7200_000;
  let h: Harness;
  let post: Post;
  let erin: Signer;
  let paul: Signer;
  let n = 0;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    post = poster(h, clock);
    erin = await h.actor('erin', ['editor']);
    paul = await h.actor('paul', ['publisher']);
  });
  after(() => h.close());

  async function heldPublish(): Promise<Held> {
    const pageId = `exp-${++n}`;
    assertOk(await post(erin, 'SaveDraftPage', { pageId, blocks: [{ type: 'text' }] }));
    assertOk(await post(erin, 'SubmitForReview', { pageId }));
    assertOk(await post(paul, 'ApproveContent', { pageId }));
    return held(h, clock, erin, 'PublishPageVersion', { pageId });
  }
  const approve = (cmd: Held) => post(paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash });
  const expiries = async (cmd: Held) => leavesFor(h, 'writ', `expire:${cmd.id}`);

  async function assertExpired(cmd: Held): Promise<void> {
    const records = await expiries(cmd);
    assert.deepEqual(records.map((r) => [r.actor, r.action, r.outcome, r.target]), [['writ', 'writ.ExpireApproval', 'OK', `approval/${cmd.id}`]]);
    const doc = await approvalDoc(h, cmd.id);
    assert.equal(doc.status, 'expired');
    assert.deepEqual(doc.settled, { status: 'ERROR', code: 'APPROVAL_EXPIRED', at: clock.iso(), by: 'writ' });
    const final = await finalOutcome(h, cmd);
    assert.equal(final.commandStatus, '410');
    assert.equal(final.body.code, 'APPROVAL_EXPIRED');
    const content = await leavesFor(h, 'content', cmd.envelope.requestId);
    assert.deepEqual(content.map((r) => [r.outcome, r.code]), [['PENDING', null], ['REJECTED', 'APPROVAL_EXPIRED']]);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/approval-open/${cmd.id}`)).body.deleted, true);
  }

  it('leaves a command pending until its TTL: the sweeper expires nothing earlier', async () => {
    const cmd = await heldPublish();
    clock.advance(TTL_MS - 1000);
    assert.equal(await h.writ.sweeper.tick(), 0);
    assert.equal((await approvalDoc(h, cmd.id)).status, 'pending');
    assertOk(await approve(cmd));
  });

  it('refuses a decision after the TTL (APPROVAL_EXPIRED) and records the expiry right after it (lazily)', async () => {
    const cmd = await heldPublish();
    clock.advance(TTL_MS);
    const res = await approve(cmd);
    assertError(res, 'APPROVAL_EXPIRED');
    assert.equal(res.body.details.approvalId, cmd.id);
    const [refused] = await leavesFor(h, 'writ', res.body.requestId);
    assert.deepEqual([refused.action, refused.outcome, refused.code], ['writ.Approve', 'REJECTED', 'APPROVAL_EXPIRED']);
    const [expiry] = await expiries(cmd);
    assert.equal(expiry.index, refused.index + 1, 'the expiry is recorded in the same batch, right after the late decision');
    await assertExpired(cmd);

    assertError(await approve(cmd), 'APPROVAL_EXPIRED');
    assert.equal(await h.writ.sweeper.tick(), 0, 'nothing left to sweep');
    assert.equal((await expiries(cmd)).length, 1, 'one expiry record, however often it is noticed');
  });

  it('is expired by the sweeper as writ, once, when nobody decides', async () => {
    const cmd = await heldPublish();
    clock.advance(TTL_MS + 1);
    assert.equal(await h.writ.sweeper.tick(), 1);
    await assertExpired(cmd);
    assert.equal(await h.writ.sweeper.tick(), 0);
    assertError(await approve(cmd), 'APPROVAL_EXPIRED');
    assert.equal((await expiries(cmd)).length, 1);
  });

  it('refuses writ.ExpireApproval from anyone but writ itself, even an admin (policy forbids it)', async () => {
    const cmd = await heldPublish();
    clock.advance(TTL_MS + 1);
    assertError(await post(h.admin, 'writ.ExpireApproval', { approvalId: cmd.id }), 'FORBIDDEN');
    assert.equal(await h.writ.sweeper.tick(), 1);
  });

  it('never reads the ledger to find what is due: only the open-approval index', async () => {
    const size = (await leaves(h, 'writ')).length;
    const readLedger = h.writ.store.readLedger;
    let reads = 0;
    h.writ.store.readLedger = async (...args) => {
      reads++;
      return readLedger.apply(h.writ.store, args);
    };
    try {
      await heldPublish();
      clock.advance(TTL_MS + 1);
      assert.equal(await h.writ.sweeper.tick(), 1);
    } finally {
      h.writ.store.readLedger = readLedger;
    }
    assert.equal(reads, 0);
    assert.equal((await leaves(h, 'writ')).length, size + 1);
  });
});

describeEachBackend('the approval sweeper in a running writ', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ approvals: { sweepIntervalMs: 100 } }, { now: clock.now, backend });
  });
  after(() => h.close());

  it('runs every approvals.sweepIntervalMs by itself and expires what is due', async () => {
    await h.actor('bea', ['editor']);
    const cmd = await held(h, clock, h.admin, 'AssignRole', { actor: 'bea', role: 'admin' });
    clock.advance(7200_000);
    const deadline = Date.now() + 5000;
    while ((await approvalDoc(h, cmd.id)).status === 'pending' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await approvalDoc(h, cmd.id)).status, 'expired');
    assert.equal((await finalOutcome(h, cmd)).body.code, 'APPROVAL_EXPIRED');
  });
});

describeEachBackend('a command held longer than the idempotency retention', (backend) => {
  const clock = new ManualClock();
  const HOUR = 3600_000;
  let h: Harness;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    writeFileSync(join(h.home, 'policies', 'long.cedar'), '@approval("quorum=1 roles=admin ttl=604800")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
    await h.restart();
  });
  after(() => h.close());

  it('keeps its 202 and its requestId: pruning leaves it, and a new command under that requestId is refused', async () => {
    const merch = await h.actor('mia', ['merch']);
    const cmd = await held(h, clock, merch, 'UpsertProduct', { sku: 'slow', name: 'Slow', price: { amount: 1, currency: 'EUR' } });
    for (let day = 0; day < 3; day++) {
      clock.advance(25 * HOUR);
      await h.writ.store.prune(clock.ms, 24 * HOUR);
      assert.equal(await h.writ.sweeper.tick(), 0);
      // Other traffic, which ages the filter of known keys by one generation a day.
      assertOk(await h.post(h.sign('UpsertProfile', { actor: 'mia', displayName: `day ${day}` }, { timestamp: clock.iso() })));
    }
    assert.equal((await h.writ.store.getOutcome(h.tenant, 'mia', cmd.envelope.requestId))?.httpStatus, 202);
    const reuse = await h.post(h.sign('UpsertProduct', { sku: 'other', name: 'Other', price: { amount: 2, currency: 'EUR' } }, { timestamp: clock.iso(), requestId: cmd.envelope.requestId }, merch));
    assertError(reuse, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/other`)).status, 404);
  });
});
