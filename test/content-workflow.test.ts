import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { builtinPacksDir } from '../src/writ.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, ManualClock } from './support/stage-helpers.js';

/**
 * The content workflow of issue 4 through the real pipeline and store: every valid transition, each
 * invalid one (409 INVALID_STATE naming the current state and what is allowed), locks, and roles.
 */
describeEachBackend('the content workflow', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let editor: Signer;
  let publisher: Signer;
  let nobody: Signer;
  before(async () => {
    h = await startHarness({}, { now: clock.now, backend });
    editor = await h.actor('erin', ['editor']);
    publisher = await h.actor('paul', ['publisher']);
    nobody = await h.actor('nora');
  });
  after(() => h.close());

  const as = (signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, { timestamp: clock.iso() }, signer));
  const page = async (id: string) => (await h.get(`/v1/entities/${h.tenant}/page/${id}`)).body.doc;
  const ok = async (signer: Signer, action: string, payload: Record<string, unknown>) => assertOk(await as(signer, action, payload));
  async function invalid(signer: Signer, action: string, payload: Record<string, unknown>) {
    const res = await as(signer, action, payload);
    assertError(res, 'INVALID_STATE', action);
    return res.body.details;
  }
  const draft = (pageId: string, title = 'T') => ({ pageId, title, blocks: [{ type: 'text' }] });
  /** A page brought to `status` by the shortest valid path. */
  async function pageIn(pageId: string, status: 'draft' | 'in_review' | 'changes_requested' | 'approved' | 'published') {
    await ok(editor, 'SaveDraftPage', draft(pageId));
    if (status === 'draft') return;
    await ok(editor, 'SubmitForReview', { pageId });
    if (status === 'in_review') return;
    if (status === 'changes_requested') return void (await ok(publisher, 'RequestChanges', { pageId, comment: 'shorter' }));
    await ok(publisher, 'ApproveContent', { pageId });
    if (status === 'published') await ok(publisher, 'PublishPageVersion', { pageId });
  }

  describe('valid transitions', () => {
    it('SaveDraftPage creates a page in draft; SubmitForReview records the revision under review', async () => {
      await ok(editor, 'SaveDraftPage', draft('flow', 'Flow'));
      assert.equal((await page('flow')).status, 'draft');
      const body = await ok(editor, 'SubmitForReview', { pageId: 'flow' });
      assert.deepEqual(body.result, { pageId: 'flow', status: 'in_review', rev: 1 });
      const p = await page('flow');
      assert.equal(p.status, 'in_review');
      assert.deepEqual(p.review, { rev: 1, submittedBy: 'erin', submittedAt: clock.iso() });
    });

    it('RequestChanges sends it back with the comment; SaveDraftPage then starts the next revision', async () => {
      const body = await ok(publisher, 'RequestChanges', { pageId: 'flow', comment: 'needs a hero' });
      assert.deepEqual(body.result, { pageId: 'flow', status: 'changes_requested', rev: 1 });
      const p = await page('flow');
      assert.equal(p.status, 'changes_requested');
      assert.equal(p.review.decision, 'changes_requested');
      assert.equal(p.review.decidedBy, 'paul');
      assert.equal(p.review.comment, 'needs a hero');
      assert.equal((await ok(editor, 'SaveDraftPage', { pageId: 'flow', blocks: [{ type: 'hero' }] })).result.draftRev, 2);
      assert.equal((await page('flow')).status, 'draft');
    });

    it('SubmitForReview is also allowed straight from changes_requested', async () => {
      await pageIn('resubmit', 'changes_requested');
      await ok(editor, 'SubmitForReview', { pageId: 'resubmit' });
      assert.equal((await page('resubmit')).status, 'in_review');
    });

    it('ApproveContent approves the revision in review', async () => {
      await ok(editor, 'SubmitForReview', { pageId: 'flow' });
      const body = await ok(publisher, 'ApproveContent', { pageId: 'flow' });
      assert.deepEqual(body.result, { pageId: 'flow', status: 'approved', rev: 2 });
      const p = await page('flow');
      assert.equal(p.review.decision, 'approved');
      assert.equal(p.review.rev, 2);
    });

    it('PublishPageVersion publishes the approved revision as version 1, naming who approved it', async () => {
      const body = await ok(publisher, 'PublishPageVersion', { pageId: 'flow' });
      assert.deepEqual(body.result, { pageId: 'flow', versionId: 'flow@1', version: 1 });
      const p = await page('flow');
      assert.equal(p.status, 'published');
      assert.equal(p.draft, null);
      assert.deepEqual(p.live, { version: 1, versionId: 'flow@1' });
      const v = (await h.get(`/v1/entities/${h.tenant}/page-version/flow@1`)).body.doc;
      assert.equal(v.rev, 2);
      assert.equal(v.approvedBy, 'paul');
      assert.equal(v.publishedBy, 'paul');
      assert.deepEqual(v.blocks, [{ type: 'hero' }]);
    });

    it('SaveDraftPage on a published page starts a new draft while version 1 stays live', async () => {
      await ok(editor, 'SaveDraftPage', draft('flow', 'Flow 2'));
      const p = await page('flow');
      assert.equal(p.status, 'draft');
      assert.equal(p.live.versionId, 'flow@1');
      assert.equal(p.draft.rev, 1, 'revisions count within one draft');
    });

    it('SaveDraftPage on an approved page withdraws the approval: the page is a draft again', async () => {
      await pageIn('second-thoughts', 'approved');
      await ok(editor, 'SaveDraftPage', draft('second-thoughts', 'Changed'));
      assert.equal((await page('second-thoughts')).status, 'draft');
      const details = await invalid(publisher, 'PublishPageVersion', { pageId: 'second-thoughts' });
      assert.equal(details.current, 'draft');
    });

    it('RollbackPage makes an earlier version live and leaves the draft and its status alone', async () => {
      await ok(editor, 'SubmitForReview', { pageId: 'flow' });
      await ok(publisher, 'ApproveContent', { pageId: 'flow' });
      await ok(publisher, 'PublishPageVersion', { pageId: 'flow' });
      await ok(editor, 'SaveDraftPage', draft('flow', 'Flow 3'));
      const body = await ok(publisher, 'RollbackPage', { pageId: 'flow', toVersion: 1 });
      assert.deepEqual(body.result, { pageId: 'flow', versionId: 'flow@1', version: 1 });
      const p = await page('flow');
      assert.deepEqual(p.live, { version: 1, versionId: 'flow@1' });
      assert.equal(p.status, 'draft');
      assert.equal(p.draft.title, 'Flow 3');
    });

    it('PublishPageVersion by versionId makes a version live again in any status (it was approved when first published)', async () => {
      const body = await ok(publisher, 'PublishPageVersion', { pageId: 'flow', versionId: 'flow@2' });
      assert.equal(body.result.versionId, 'flow@2');
      const p = await page('flow');
      assert.equal(p.live.versionId, 'flow@2');
      assert.equal(p.status, 'draft');
      assert.equal(p.versions, 2);
    });
  });

  describe('invalid transitions', () => {
    const states = ['draft', 'in_review', 'changes_requested', 'approved', 'published'] as const;
    /** For each action bound to the status, the statuses it accepts (the rest must be INVALID_STATE). */
    const accepts: Record<string, { payload: (id: string) => Record<string, unknown>; from: readonly string[]}> = {
      SaveDraftPage: { payload: (id) => draft(id), from: ['draft', 'changes_requested', 'approved', 'published'] },
      SubmitForReview: { payload: (id) => ({ pageId: id }), from: ['draft', 'changes_requested'] },
      RequestChanges: { payload: (id) => ({ pageId: id }), from: ['in_review'] },
      ApproveContent: { payload: (id) => ({ pageId: id }), from: ['in_review'] },
      PublishPageVersion: { payload: (id) => ({ pageId: id }), from: ['approved'] },
      SchedulePublish: { payload: (id) => ({ pageId: id, at: new Date(clock.ms + 3_600_000).toISOString() }), from: ['approved'] },
    };
    const expectedNext: Record<(typeof states)[number], string[]> = {
      draft: ['SaveDraftPage', 'SubmitForReview', 'LockContent'],
      in_review: ['RequestChanges', 'ApproveContent', 'LockContent'],
      changes_requested: ['SaveDraftPage', 'SubmitForReview', 'LockContent'],
      approved: ['SaveDraftPage', 'PublishPageVersion', 'SchedulePublish', 'LockContent'],
      published: ['SaveDraftPage', 'PublishPageVersion', 'LockContent'],
    };

    for (const status of states) {
      for (const [action, spec] of Object.entries(accepts)) {
        if (spec.from.includes(status)) continue;
        it(`${action} of a page in ${status} is INVALID_STATE with the current status, the allowed ones and the next actions`, async () => {
          const id = `bad-${action}-${status}`.toLowerCase();
          await pageIn(id, status);
          const before = await h.get(`/v1/entities/${h.tenant}/page/${id}`);
          const details = await invalid(action === 'RequestChanges' || action === 'ApproveContent' || action === 'PublishPageVersion' || action === 'SchedulePublish' ? publisher : editor, action, spec.payload(id));
          assert.deepEqual(details, { field: 'status', current: status, allowed: spec.from, next: expectedNext[status] });
          assert.equal((await h.get(`/v1/entities/${h.tenant}/page/${id}`)).body.version, before.body.version, 'the page is unchanged');
        });
      }
    }

    it('every action but SaveDraftPage on a page that does not exist is NOT_FOUND', async () => {
      for (const [action, payload] of [
        ['SubmitForReview', { pageId: 'ghost' }],
        ['RequestChanges', { pageId: 'ghost' }],
        ['ApproveContent', { pageId: 'ghost' }],
        ['PublishPageVersion', { pageId: 'ghost' }],
        ['SchedulePublish', { pageId: 'ghost', at: '2999-01-01T00:00:00Z' }],
        ['CancelSchedule', { pageId: 'ghost' }],
        ['RollbackPage', { pageId: 'ghost', toVersion: 1 }],
        ['LockContent', { pageId: 'ghost' }],
        ['UnlockContent', { pageId: 'ghost' }],
      ] as const) {
        assertError(await as(publisher, action, payload), 'NOT_FOUND', action);
      }
    });

    it('RollbackPage to the live version is INVALID_STATE; to a version never published, NOT_FOUND', async () => {
      const details = await invalid(publisher, 'RollbackPage', { pageId: 'flow', toVersion: 2 });
      assert.equal(details.field, 'live');
      assert.equal(details.current, 2);
      assertError(await as(publisher, 'RollbackPage', { pageId: 'flow', toVersion: 9 }), 'NOT_FOUND');
    });

    it('each refusal is a REJECTED ledger record with code INVALID_STATE', async () => {
      const res = await as(editor, 'SubmitForReview', { pageId: 'bad-submitforreview-in_review' });
      assertError(res, 'INVALID_STATE');
      const [row] = await h.writ.store.readLedger(h.tenant, 'content', res.body.receipt.index, 1);
      const record = JSON.parse(row!.leaf.toString('utf8'));
      assert.equal(record.outcome, 'REJECTED');
      assert.equal(record.code, 'INVALID_STATE');
      assert.equal(record.target, 'page/bad-submitforreview-in_review');
    });
  });

  describe('locks', () => {
    it('LockContent freezes a page: every change is INVALID_STATE naming the lock and UnlockContent', async () => {
      await pageIn('frozen', 'approved');
      const body = await ok(publisher, 'LockContent', { pageId: 'frozen', reason: 'legal hold' });
      assert.deepEqual(body.result, { pageId: 'frozen', locked: true, status: 'approved' });
      assert.deepEqual((await page('frozen')).locked, { by: 'paul', at: clock.iso(), reason: 'legal hold' });
      for (const [signer, action, payload] of [
        [editor, 'SaveDraftPage', draft('frozen')],
        [editor, 'SubmitForReview', { pageId: 'frozen' }],
        [publisher, 'RequestChanges', { pageId: 'frozen' }],
        [publisher, 'ApproveContent', { pageId: 'frozen' }],
        [publisher, 'PublishPageVersion', { pageId: 'frozen' }],
        [publisher, 'SchedulePublish', { pageId: 'frozen', at: '2999-01-01T00:00:00Z' }],
        [publisher, 'LockContent', { pageId: 'frozen' }],
      ] as const) {
        const details = await invalid(signer, action, payload);
        assert.deepEqual(details, { field: 'locked', current: 'locked', allowed: ['unlocked'], lockedBy: 'paul', status: 'approved', next: ['UnlockContent'] }, action);
      }
    });

    it('a locked page refuses RollbackPage and a re-publish by versionId too', async () => {
      await ok(publisher, 'LockContent', { pageId: 'flow' });
      assert.equal((await invalid(publisher, 'RollbackPage', { pageId: 'flow', toVersion: 1 })).field, 'locked');
      assert.equal((await invalid(publisher, 'PublishPageVersion', { pageId: 'flow', versionId: 'flow@1' })).field, 'locked');
      assert.equal((await page('flow')).live.versionId, 'flow@2');
      await ok(publisher, 'UnlockContent', { pageId: 'flow' });
    });

    it('UnlockContent returns the page to the status it had, and changes are allowed again', async () => {
      const body = await ok(publisher, 'UnlockContent', { pageId: 'frozen' });
      assert.deepEqual(body.result, { pageId: 'frozen', locked: false, status: 'approved' });
      assert.equal((await page('frozen')).locked, null);
      await ok(publisher, 'PublishPageVersion', { pageId: 'frozen' });
    });

    it('UnlockContent of a page that is not locked is INVALID_STATE', async () => {
      const details = await invalid(publisher, 'UnlockContent', { pageId: 'frozen' });
      assert.equal(details.field, 'locked');
      assert.equal(details.current, 'unlocked');
    });

    it('an admin may lock and unlock', async () => {
      await ok(h.admin, 'LockContent', { pageId: 'frozen' });
      await ok(h.admin, 'UnlockContent', { pageId: 'frozen' });
    });
  });

  describe('schedules (what SchedulePublish and CancelSchedule accept)', () => {
    const inAnHour = () => new Date(clock.ms + 3_600_000).toISOString();

    it('SchedulePublish records a pending schedule with its deterministic requestId', async () => {
      await pageIn('sched', 'approved');
      const at = inAnHour();
      const body = await ok(publisher, 'SchedulePublish', { pageId: 'sched', at });
      assert.deepEqual(body.result, { pageId: 'sched', at, requestId: `schedule:sched:${at}`, replaced: null });
      const p = await page('sched');
      assert.deepEqual(p.schedule, { at, requestId: `schedule:sched:${at}`, by: 'paul', requestedAt: clock.iso(), status: 'pending' });
      assert.equal(p.status, 'approved');
      assert.deepEqual((await h.get(`/v1/entities/${h.tenant}/schedule/sched`)).body.doc, { pageId: 'sched', at, requestId: `schedule:sched:${at}` });
    });

    it('a later SchedulePublish replaces the pending one; at is stored in UTC', async () => {
      const body = await ok(publisher, 'SchedulePublish', { pageId: 'sched', at: '2999-06-01T12:00:00+02:00' });
      assert.equal(body.result.at, '2999-06-01T10:00:00.000Z');
      assert.notEqual(body.result.replaced, null);
    });

    it('at not in the future is INVALID_PAYLOAD (/at), and the schedule is unchanged', async () => {
      for (const at of [clock.iso(), new Date(clock.ms - 1000).toISOString()]) {
        const res = await as(publisher, 'SchedulePublish', { pageId: 'sched', at });
        assertError(res, 'INVALID_PAYLOAD');
        assert.equal(res.body.details.errors[0].path, '/at');
      }
      assertError(await as(publisher, 'SchedulePublish', { pageId: 'sched', at: 'tomorrow' }), 'INVALID_PAYLOAD');
      assert.equal((await page('sched')).schedule.at, '2999-06-01T10:00:00.000Z');
    });

    it('CancelSchedule with another at is INVALID_STATE; without one, it cancels and drops the index entry', async () => {
      const details = await invalid(publisher, 'CancelSchedule', { pageId: 'sched', at: inAnHour() });
      assert.deepEqual(details, { field: 'schedule', current: 'pending', at: '2999-06-01T10:00:00.000Z', allowed: ['pending'] });
      const body = await ok(publisher, 'CancelSchedule', { pageId: 'sched', reason: 'campaign moved' });
      assert.deepEqual(body.result, { pageId: 'sched', at: '2999-06-01T10:00:00.000Z', status: 'cancelled' });
      const p = await page('sched');
      assert.equal(p.schedule.status, 'cancelled');
      assert.equal(p.schedule.closedBy, 'paul');
      assert.equal(p.schedule.reason, 'campaign moved');
      assert.equal((await h.get(`/v1/entities/${h.tenant}/schedule/sched`)).body.deleted, true);
    });

    it('CancelSchedule without a pending schedule is INVALID_STATE', async () => {
      assert.equal((await invalid(publisher, 'CancelSchedule', { pageId: 'sched' })).current, 'cancelled');
      assert.equal((await invalid(publisher, 'CancelSchedule', { pageId: 'flow' })).current, null);
    });

    it('CancelSchedule is allowed on a locked page (it only withdraws a change to come)', async () => {
      await ok(publisher, 'SchedulePublish', { pageId: 'sched', at: inAnHour() });
      await ok(publisher, 'LockContent', { pageId: 'sched' });
      await ok(publisher, 'CancelSchedule', { pageId: 'sched' });
      await ok(publisher, 'UnlockContent', { pageId: 'sched' });
    });

    it('a publish before the schedule is due supersedes it', async () => {
      await ok(publisher, 'SchedulePublish', { pageId: 'sched', at: inAnHour() });
      const body = await ok(publisher, 'PublishPageVersion', { pageId: 'sched' });
      const p = await page('sched');
      assert.equal(p.schedule.status, 'superseded');
      assert.equal(p.schedule.versionId, body.result.versionId);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/schedule/sched`)).body.deleted, true);
    });
  });

  describe('roles', () => {
    it('an editor may not review, schedule, roll back, lock or unlock (FORBIDDEN)', async () => {
      await pageIn('roles', 'in_review');
      for (const [action, payload] of [
        ['RequestChanges', { pageId: 'roles' }],
        ['ApproveContent', { pageId: 'roles' }],
        ['SchedulePublish', { pageId: 'roles', at: '2999-01-01T00:00:00Z' }],
        ['CancelSchedule', { pageId: 'roles' }],
        ['RollbackPage', { pageId: 'roles', toVersion: 1 }],
        ['LockContent', { pageId: 'roles' }],
        ['UnlockContent', { pageId: 'roles' }],
      ] as const) {
        assertError(await as(editor, action, payload), 'FORBIDDEN', action);
      }
      assert.equal((await page('roles')).status, 'in_review');
    });

    it('an actor without roles may run no content action', async () => {
      for (const action of ['SaveDraftPage', 'SubmitForReview', 'PublishPageVersion', 'LockContent']) {
        assertError(await as(nobody, action, action === 'SaveDraftPage' ? draft('roles') : { pageId: 'roles' }), 'FORBIDDEN', action);
      }
    });

    it('the shipped policy lets editors publish only through a permit that needs 1 approval by a publisher or admin', () => {
      const text = readFileSync(join(builtinPacksDir(), 'content', 'policies.cedar'), 'utf8');
      const permit = /@approval\("([^"]*)"\)\s*permit\s*\(\s*principal in Writ::Role::"editor",\s*action == Writ::Action::"PublishPageVersion",\s*resource\s*\);/.exec(text);
      assert.ok(permit, 'the annotated editor permit is there');
      assert.equal(permit[1], 'quorum=1 roles=publisher,admin');
      assert.equal(text.match(/PublishPageVersion/g)?.length, 2, 'the only other permit naming it is the publishers\'');
    });

    it('an editor\'s publish of an approved page is never applied directly (held for approval, or refused while writ cannot hold it)', async () => {
      await pageIn('ed-publish', 'approved');
      const res = await as(editor, 'PublishPageVersion', { pageId: 'ed-publish' });
      assert.ok(res.status === 202 || res.status === 403, res.raw);
      assert.equal((await page('ed-publish')).status, 'approved');
      assert.equal((await h.get(`/v1/entities/${h.tenant}/page-version/ed-publish@1`)).status, 404);
    });

    it('an editor\'s publish waits for one approval by a publisher or admin (202 PENDING_APPROVAL)', async () => {
      await ok(publisher, 'ApproveContent', { pageId: 'roles' });
      const res = await as(editor, 'PublishPageVersion', { pageId: 'roles' });
      assert.equal(res.status, 202, res.raw);
      assert.equal((await page('roles')).status, 'approved', 'nothing is published before the approval');
    });
  });
});
