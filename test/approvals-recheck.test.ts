import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, type Held, type Post } from './support/approvals.js';
import { newSigner, rid, startHarness, type Harness } from './support/harness.js';
import { assignRole, assertOk, hmacSigner, leavesFor, ManualClock, registerKey, tempDir, writeSecret } from './support/stage-helpers.js';

/**
 * A held command is checked again when a decision is about to run it (docs/security.md, "Writes,
 * approvals and separation of duties"): the requester's key must still be valid — the README
 * promises that commands signed with a revoked key are refused — and current policy must still
 * allow it. A failed re-check ends the command refused; the decision itself is recorded as usual.
 */
describeEachBackend('re-checks of a held command at execution', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let erin: Signer;
  let paul: Signer;
  let ivy: Signer;
  let nora: Signer;
  const eve = newSigner('eve#1');
  const mac = writeSecret(tempDir(), 'mac.secret');
  before(async () => {
    // mac signs with an HS256 key from config (auth.hmacKeys), which state holds only once revoked.
    h = await startHarness({ approvals: { sweepEnabled: false }, auth: { hmacKeys: [{ tenant: 'default', actor: 'mac', keyId: 'mac#1', secretFile: mac.file }] } }, { now: clock.now, backend });
    post = poster(h, clock);
    erin = await h.actor('erin', ['editor']);
    paul = await h.actor('paul', ['publisher']);
    ivy = await h.actor('ivy', ['editor']);
    nora = await h.actor('nora', ['editor']);
    await assignRole(h, 'mac', 'editor');
    await registerKey(h, 'eve', eve, { notAfter: new Date(clock.now() + 3600_000).toISOString() }, ['editor']);
  });
  after(() => h.close());

  async function heldPublish(pageId: string, signer = erin): Promise<Held> {
    assertOk(await post(signer, 'SaveDraftPage', { pageId, blocks: [{ type: 'text' }] }));
    assertOk(await post(signer, 'SubmitForReview', { pageId }));
    assertOk(await post(paul, 'ApproveContent', { pageId }));
    return held(h, clock, signer, 'PublishPageVersion', { pageId });
  }
  const approve = (cmd: Held) => post(paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash });
  const pageStatus = async (id: string) => (await h.get(`/v1/entities/${h.tenant}/page/${id}`)).body.doc.status;

  /** The approval ran (OK record), and the held command ended refused with `code`: its answer, record and approval say so. */
  async function assertEndedRefused(cmd: Held, decision: any, code: string): Promise<any> {
    assert.deepEqual(decision.result.outcome, { status: 'ERROR', code });
    assert.equal(decision.result.status, 'failed');
    const final = await finalOutcome(h, cmd);
    assert.equal(final.body.code, code);
    assert.deepEqual(final.body.approval, { id: cmd.id, status: 'failed' });
    const records = await leavesFor(h, 'content', cmd.envelope.requestId);
    assert.deepEqual(records.map((r) => [r.outcome, r.code]), [['PENDING', null], ['REJECTED', code]]);
    const doc = await approvalDoc(h, cmd.id);
    assert.deepEqual([doc.status, doc.settled.code], ['failed', code]);
    return final.body;
  }

  it("refuses a held command whose requester's key was revoked before the approval (KEY_REVOKED), recording the approval", async () => {
    const cmd = await heldPublish('revoked');
    assertOk(await post(h.admin, 'writ.RevokeKey', { keyId: 'erin#1', reason: 'laptop stolen' }));
    const decision = assertOk(await approve(cmd));
    const [record] = await leavesFor(h, 'writ', decision.requestId);
    assert.deepEqual([record.actor, record.action, record.outcome], ['paul', 'writ.Approve', 'OK']);
    const answer = await assertEndedRefused(cmd, decision, 'KEY_REVOKED');
    assert.match(answer.message, /key "erin#1" was revoked/);
    assert.equal(await pageStatus('revoked'), 'approved', 'nothing was published');
  });

  it('refuses a held command signed with a configured HMAC key revoked before the approval', async () => {
    const cmd = await heldPublish('hmac', hmacSigner('mac#1', mac.secret));
    assertOk(await post(h.admin, 'writ.RevokeKey', { keyId: 'mac#1' }));
    await assertEndedRefused(cmd, assertOk(await approve(cmd)), 'KEY_REVOKED');
  });

  it('sees a revocation applied in the same batch as the approval, before it', async () => {
    const cmd = await heldPublish('same-batch', ivy);
    // On writ's own authority both commands enter the applier's queue in this order within one tick,
    // so they are planned in one batch: the revocation is in that batch's writes, not yet in the directory.
    assert.equal((await h.writ.pipeline.system(h.tenant, 'AssignRole', { actor: 'writ', role: 'publisher' }, rid())).httpStatus, 200);
    const [revoked, decided] = await Promise.all([
      h.writ.pipeline.system(h.tenant, 'writ.RevokeKey', { keyId: 'ivy#1' }, rid()),
      h.writ.pipeline.system(h.tenant, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }, rid()),
    ]);
    assert.equal(revoked.httpStatus, 200, revoked.body);
    assert.equal(decided.httpStatus, 200, decided.body);
    await assertEndedRefused(cmd, JSON.parse(decided.body), 'KEY_REVOKED');
  });

  it('sees a block of the requester applied in the same batch as the approval, before it', async () => {
    const cmd = await heldPublish('blocked-same-batch', nora);
    const [blocked, decided] = await Promise.all([
      h.writ.pipeline.system(h.tenant, 'writ.SetFlag', { subject: 'actor:nora', flag: 'blocked' }, rid()),
      h.writ.pipeline.system(h.tenant, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }, rid()),
    ]);
    assert.equal(blocked.httpStatus, 200, blocked.body);
    await assertEndedRefused(cmd, JSON.parse(decided.body), 'BLOCKED');
    assertOk(await post(h.admin, 'writ.SetFlag', { subject: 'actor:nora', flag: 'none' }));
  });

  it('refuses a held command that policy no longer allows (a forbid added between hold and approval)', async () => {
    const cmd = await heldPublish('forbidden', nora);
    writeFileSync(join(h.home, 'policies', 'freeze.cedar'), 'forbid (principal, action == Writ::Action::"PublishPageVersion", resource);\n');
    await h.restart();
    const answer = await assertEndedRefused(cmd, assertOk(await approve(cmd)), 'FORBIDDEN');
    assert.match(answer.message, /nora may no longer run PublishPageVersion/);
    assert.equal(await pageStatus('forbidden'), 'approved');
    rmSync(join(h.home, 'policies', 'freeze.cedar'));
    await h.restart();
  });

  it('refuses a held command whose key expired (notAfter passed) before the approval', async () => {
    const cmd = await heldPublish('expired', eve);
    clock.advance(3660_000);
    const answer = await assertEndedRefused(cmd, assertOk(await approve(cmd)), 'KEY_REVOKED');
    assert.match(answer.message, /key "eve#1" expired at/);
  });
});
