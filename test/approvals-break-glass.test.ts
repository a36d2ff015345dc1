import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, type Held, type Post } from './support/approvals.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leavesFor, ManualClock } from './support/stage-helpers.js';

/**
 * Break-glass (DESIGN §5): an actor holding role `breakglass` runs a held command at once. The
 * approval is marked, an alert event goes to the outbox, and a review stays open until an admin
 * other than the one who broke the glass closes it.
 */
describeEachBackend('break-glass', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let erin: Signer;
  let paul: Signer;
  let olga: Signer;
  let ann: Signer;
  let cmd: Held;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    post = poster(h, clock);
    erin = await h.actor('erin', ['editor']);
    paul = await h.actor('paul', ['publisher']);
    olga = await h.actor('olga', ['breakglass']);
    ann = await h.actor('ann', ['admin']);
    assertOk(await post(erin, 'SaveDraftPage', { pageId: 'outage', blocks: [{ type: 'text' }] }));
    assertOk(await post(erin, 'SubmitForReview', { pageId: 'outage' }));
    assertOk(await post(paul, 'ApproveContent', { pageId: 'outage' }));
    cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'outage' });
  });
  after(() => h.close());

  const breakGlass = (signer: Signer, hash = cmd.hash) => post(signer, 'writ.BreakGlass', { approvalId: cmd.id, commandHash: hash, reason: 'site down, fix must go out' });

  it('is refused to actors without role breakglass, admins included', async () => {
    assertError(await breakGlass(paul), 'FORBIDDEN');
    assertError(await breakGlass(h.admin), 'FORBIDDEN');
    assertError(await breakGlass(olga, 'cd'.repeat(32)), 'APPROVAL_MISMATCH');
    assert.equal((await approvalDoc(h, cmd.id)).status, 'pending');
  });

  it('runs the held command at once, marks the approval, alerts, and opens a review', async () => {
    const events = await h.writ.store.countOutbox();
    const res = assertOk(await breakGlass(olga));
    assert.deepEqual(res.result, { approvalId: cmd.id, status: 'executed', approvals: 0, quorum: 1, breakGlass: true, reviewId: cmd.id, outcome: { status: 'OK', code: null } });
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page/outage`)).body.doc.status, 'published');
    assert.equal(await h.writ.store.countOutbox(), events + 2, 'the approval.break-glass alert and the publish event');
    const [record] = await leavesFor(h, 'writ', res.requestId);
    assert.deepEqual([record.actor, record.action, record.outcome], ['olga', 'writ.BreakGlass', 'OK']);
    const doc = await approvalDoc(h, cmd.id);
    assert.equal(doc.status, 'executed');
    assert.deepEqual(doc.breakGlass, { actor: 'olga', at: clock.iso(), reason: 'site down, fix must go out', reviewId: cmd.id });
    const final = await finalOutcome(h, cmd);
    assert.equal(final.body.status, 'OK');
    assert.deepEqual(final.body.approval, { id: cmd.id, status: 'executed', breakGlass: true });
    const review = (await h.get(`/v1/entities/${h.tenant}/review/${cmd.id}`)).body.doc;
    assert.deepEqual(
      [review.kind, review.status, review.approvalId, review.requester, review.action, review.target, review.openedBy, review.reason],
      ['break-glass', 'open', cmd.id, 'erin', 'PublishPageVersion', 'page/outage', 'olga', 'site down, fix must go out'],
    );
    const catalogEvent = (await h.get('/v1/actions')).body.actions.find((a: any) => a.name === 'writ.BreakGlass').event;
    assert.equal(catalogEvent, 'approval.break-glass');
  });

  it('cannot be used twice on the same command', async () => {
    assertError(await breakGlass(olga), 'INVALID_STATE');
  });

  it('leaves the review open until an admin closes it, and not the actor who broke the glass', async () => {
    assertError(await post(paul, 'writ.CloseReview', { reviewId: cmd.id, note: 'fine' }), 'FORBIDDEN');
    // Made an admin on writ's own authority (granting admin otherwise waits for two other admins).
    assert.equal((await h.writ.pipeline.system(h.tenant, 'AssignRole', { actor: 'olga', role: 'admin' }, rid())).httpStatus, 200);
    assertError(await post(olga, 'writ.CloseReview', { reviewId: cmd.id, note: 'all good' }), 'SELF_APPROVAL');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/review/${cmd.id}`)).body.doc.status, 'open');
    const closed = assertOk(await post(ann, 'writ.CloseReview', { reviewId: cmd.id, note: 'checked: the publish was the fix' }));
    assert.deepEqual(closed.result, { reviewId: cmd.id, status: 'closed' });
    const review = (await h.get(`/v1/entities/${h.tenant}/review/${cmd.id}`)).body.doc;
    assert.deepEqual([review.status, review.closedBy, review.note], ['closed', 'ann', 'checked: the publish was the fix']);
    assertError(await post(ann, 'writ.CloseReview', { reviewId: cmd.id, note: 'again' }), 'INVALID_STATE');
  });
});
