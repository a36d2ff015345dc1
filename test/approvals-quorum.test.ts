import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, type Post } from './support/approvals.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leaves, leavesFor, ManualClock } from './support/stage-helpers.js';

/**
 * Deciding on held commands (DESIGN §5) through the real pipeline and store: quorum, self-approval,
 * binding to the commandHash, rejection, and the held command running once with its final outcome
 * replacing the stored 202.
 */
describeEachBackend('deciding on a held command', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let erin: Signer;
  let paul: Signer;
  let nora: Signer;
  let ann: Signer;
  let abe: Signer;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    post = poster(h, clock);
    erin = await h.actor('erin', ['editor']);
    paul = await h.actor('paul', ['publisher']);
    nora = await h.actor('nora', ['editor']);
    ann = await h.actor('ann', ['admin']);
    abe = await h.actor('abe', ['admin']);
    await h.actor('bea', ['editor']);
  });
  after(() => h.close());

  async function approvedPage(pageId: string): Promise<void> {
    assertOk(await post(erin, 'SaveDraftPage', { pageId, blocks: [{ type: 'text' }] }));
    assertOk(await post(erin, 'SubmitForReview', { pageId }));
    assertOk(await post(paul, 'ApproveContent', { pageId }));
  }
  const decide = (signer: Signer, action: string, id: string, hash: string, extra: Record<string, unknown> = {}) => post(signer, action, { approvalId: id, commandHash: hash, ...extra });
  const page = async (id: string) => (await h.get(`/v1/entities/${h.tenant}/page/${id}`)).body.doc;

  describe("an editor's publish, one approval by a publisher or admin", () => {
    let cmd: Awaited<ReturnType<typeof held>>;
    before(async () => {
      await approvedPage('home');
      cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'home' });
    });

    it('refuses an approval bound to another commandHash (APPROVAL_MISMATCH); the command stays pending', async () => {
      const res = await decide(paul, 'writ.Approve', cmd.id, 'ab'.repeat(32));
      assertError(res, 'APPROVAL_MISMATCH');
      assert.equal(res.body.details.commandHash, cmd.hash);
      assert.equal((await approvalDoc(h, cmd.id)).status, 'pending');
    });

    it('refuses the requester (SELF_APPROVAL) and an actor without a required role (FORBIDDEN)', async () => {
      assertError(await decide(erin, 'writ.Approve', cmd.id, cmd.hash), 'SELF_APPROVAL');
      const res = await decide(nora, 'writ.Approve', cmd.id, cmd.hash);
      assertError(res, 'FORBIDDEN');
      assert.match(res.body.message, /needs one of the roles publisher, admin/);
      assert.equal((await page('home')).status, 'approved');
    });

    it('refuses an unknown approval id (NOT_FOUND)', async () => {
      assertError(await decide(paul, 'writ.Approve', 'no-such-approval', cmd.hash), 'NOT_FOUND');
    });

    it('runs the command on the approval, in the same transaction: a record of the approval, then one of the command', async () => {
      const res = assertOk(await decide(paul, 'writ.Approve', cmd.id, cmd.hash));
      assert.deepEqual(res.result, { approvalId: cmd.id, status: 'executed', approvals: 1, quorum: 1, outcome: { status: 'OK', code: null } });
      assert.equal((await page('home')).status, 'published');
      assert.equal((await h.get(`/v1/entities/${h.tenant}/page-version/home@1`)).status, 200);
      const content = await leavesFor(h, 'content', cmd.envelope.requestId);
      assert.deepEqual(content.map((r) => [r.actor, r.action, r.outcome, r.commandHash]), [
        ['erin', 'PublishPageVersion', 'PENDING', cmd.hash],
        ['erin', 'PublishPageVersion', 'OK', cmd.hash],
      ]);
      const [approve] = await leavesFor(h, 'writ', res.requestId);
      assert.deepEqual([approve.actor, approve.action, approve.outcome, approve.target], ['paul', 'writ.Approve', 'OK', `approval/${cmd.id}`]);
      const doc = await approvalDoc(h, cmd.id);
      assert.equal(doc.status, 'executed');
      assert.deepEqual(doc.approvals, [{ actor: 'paul', at: clock.iso(), roles: ['publisher'] }]);
      assert.deepEqual(doc.settled, { status: 'OK', code: null, at: clock.iso(), by: 'paul' });
      assert.equal((await h.get(`/v1/entities/${h.tenant}/approval-open/${cmd.id}`)).body.deleted, true);
    });

    it("replaces the requestId's stored 202: the status endpoint and a replay of the original envelope return the final outcome", async () => {
      const final = await finalOutcome(h, cmd);
      assert.equal(final.commandStatus, '200');
      assert.equal(final.body.status, 'OK');
      assert.deepEqual(final.body.approval, { id: cmd.id, status: 'executed' });
      const okRecord = (await leavesFor(h, 'content', cmd.envelope.requestId))[1];
      assert.equal(final.body.receipt.index, okRecord.index);
      const replay = await h.post(cmd.envelope);
      assert.equal(replay.status, 200);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(replay.body, final.body);
    });

    it('refuses a decision after the command ran (INVALID_STATE), running nothing again', async () => {
      const res = await decide(ann, 'writ.Approve', cmd.id, cmd.hash);
      assertError(res, 'INVALID_STATE');
      assert.equal(res.body.details.current, 'executed');
      assert.equal((await leavesFor(h, 'content', cmd.envelope.requestId)).length, 2);
    });
  });

  describe('granting admin: two approvals by other admins', () => {
    let cmd: Awaited<ReturnType<typeof held>>;
    before(async () => {
      cmd = await held(h, clock, h.admin, 'AssignRole', { actor: 'bea', role: 'admin' });
    });

    it('counts each admin once and runs the grant on the second one', async () => {
      assertError(await decide(h.admin, 'writ.Approve', cmd.id, cmd.hash), 'SELF_APPROVAL');
      const first = assertOk(await decide(ann, 'writ.Approve', cmd.id, cmd.hash));
      assert.deepEqual(first.result, { approvalId: cmd.id, status: 'pending', approvals: 1, quorum: 2 });
      const twice = await decide(ann, 'writ.Approve', cmd.id, cmd.hash);
      assertError(twice, 'INVALID_STATE');
      assert.match(twice.body.message, /approved this command already; each approver counts once/);
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'bea'), ['editor'], 'one approval is not a quorum');
      const second = assertOk(await decide(abe, 'writ.Approve', cmd.id, cmd.hash));
      assert.equal(second.result.status, 'executed');
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'bea'), ['admin', 'editor']);
      const records = await leavesFor(h, 'access', cmd.envelope.requestId);
      assert.deepEqual(records.map((r) => [r.actor, r.action, r.outcome]), [['admin', 'AssignRole', 'PENDING'], ['admin', 'AssignRole', 'OK']]);
      assert.deepEqual((await approvalDoc(h, cmd.id)).approvals.map((a: any) => a.actor), ['ann', 'abe']);
    });
  });

  describe('rejection', () => {
    it('by a holder of a required role ends the command with APPROVAL_REJECTED, recorded in its own log', async () => {
      await approvedPage('rej');
      const cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'rej' });
      assertError(await decide(nora, 'writ.Reject', cmd.id, cmd.hash, { reason: 'no' }), 'FORBIDDEN');
      const res = assertOk(await decide(paul, 'writ.Reject', cmd.id, cmd.hash, { reason: 'not this week' }));
      assert.deepEqual(res.result.outcome, { status: 'ERROR', code: 'APPROVAL_REJECTED' });
      const final = await finalOutcome(h, cmd);
      assert.equal(final.commandStatus, '403');
      assert.equal(final.body.code, 'APPROVAL_REJECTED');
      assert.match(final.body.message, /rejected by paul: not this week/);
      const [, rejected] = await leavesFor(h, 'content', cmd.envelope.requestId);
      assert.deepEqual([rejected.actor, rejected.outcome, rejected.code], ['erin', 'REJECTED', 'APPROVAL_REJECTED']);
      const doc = await approvalDoc(h, cmd.id);
      assert.equal(doc.status, 'rejected');
      assert.deepEqual(doc.rejections.map((r: any) => [r.actor, r.reason]), [['paul', 'not this week']]);
      assertError(await decide(h.admin, 'writ.Approve', cmd.id, cmd.hash), 'INVALID_STATE');
      assert.equal((await page('rej')).status, 'approved', 'nothing was published');
    });

    it('by the requester withdraws its own command', async () => {
      await approvedPage('withdraw');
      const cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'withdraw' });
      assertOk(await decide(erin, 'writ.Reject', cmd.id, cmd.hash, { reason: 'typo' }));
      const final = await finalOutcome(h, cmd);
      assert.equal(final.body.code, 'APPROVAL_REJECTED');
      assert.match(final.body.message, /withdrawn by its requester erin: typo/);
    });
  });

  describe('re-checks when the command is about to run', () => {
    it('refuses it with VERSION_CONFLICT when its expected version moved meanwhile: a REJECTED record, the final outcome', async () => {
      await approvedPage('moved');
      const version = (await h.get(`/v1/entities/${h.tenant}/page/moved`)).body.version;
      const cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'moved' }, { expectedVersion: version });
      assertOk(await post(paul, 'LockContent', { pageId: 'moved' }));
      assertOk(await post(paul, 'UnlockContent', { pageId: 'moved' }));
      const res = assertOk(await decide(paul, 'writ.Approve', cmd.id, cmd.hash));
      assert.deepEqual(res.result.outcome, { status: 'ERROR', code: 'VERSION_CONFLICT' });
      const final = await finalOutcome(h, cmd);
      assert.equal(final.commandStatus, '409');
      assert.equal(final.body.code, 'VERSION_CONFLICT');
      assert.deepEqual(final.body.details, { current: version + 2, expected: version });
      assert.deepEqual(final.body.approval, { id: cmd.id, status: 'failed' });
      const [, rejected] = await leavesFor(h, 'content', cmd.envelope.requestId);
      assert.deepEqual([rejected.outcome, rejected.code], ['REJECTED', 'VERSION_CONFLICT']);
      assert.equal((await approvalDoc(h, cmd.id)).status, 'failed');
      assert.equal((await page('moved')).status, 'approved');
    });

    it('refuses it with FORBIDDEN when the requester no longer holds a role policy needs', async () => {
      await approvedPage('demoted');
      const cmd = await held(h, clock, nora, 'PublishPageVersion', { pageId: 'demoted' });
      assertOk(await post(h.admin, 'RevokeRole', { actor: 'nora', role: 'editor' }));
      assertOk(await decide(paul, 'writ.Approve', cmd.id, cmd.hash));
      const final = await finalOutcome(h, cmd);
      assert.equal(final.body.code, 'FORBIDDEN');
      assert.match(final.body.message, /nora may no longer run PublishPageVersion/);
      assertOk(await post(h.admin, 'AssignRole', { actor: 'nora', role: 'editor' }));
    });

    it('refuses it when the requester has been blocked meanwhile', async () => {
      await approvedPage('blocked');
      const cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'blocked' });
      assertOk(await post(h.admin, 'writ.SetFlag', { subject: 'actor:erin', flag: 'blocked' }));
      assertOk(await decide(paul, 'writ.Approve', cmd.id, cmd.hash));
      assert.equal((await finalOutcome(h, cmd)).body.code, 'BLOCKED');
      assertOk(await post(h.admin, 'writ.SetFlag', { subject: 'actor:erin', flag: 'none' }));
    });
  });

  it('keeps every record of each log hash-chained', async () => {
    for (const scroll of ['content', 'writ', 'access']) {
      const all = await leaves(h, scroll);
      all.forEach((r, i) => assert.equal(r.index, i));
    }
  });
});
