import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { SystemSubmit } from '../src/pipeline/system.js';
import { PublishScheduler, type PublishSchedulerOptions } from '../src/packs/content/publish-scheduler.js';
import { SYSTEM_ACTOR } from '../src/pipeline/system.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertOk, leaves, ManualClock } from './support/stage-helpers.js';

const HOUR = 3_600_000;

/**
 * Scheduled publishing (issue 4) on a real store through the real pipeline, with a clock the test
 * moves by hand: the scheduler's tick() is called directly.
 */
describeEachBackend('scheduled publishing', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let publisher: Signer;
  let editor: Signer;
  before(async () => {
    h = await startHarness({}, { now: clock.now, backend });
    publisher = await h.actor('paul', ['publisher']);
    editor = await h.actor('erin', ['editor']);
  });
  after(() => h.close());

  /** Pipeline.system of the writ running now (h.writ changes on restart). */
  const system: SystemSubmit = (tenant, action, payload, requestId) => h.writ.pipeline.system(tenant, action, payload, requestId);
  /** The reads a job's context gives the scheduler, on the store of the writ running now. */
  const reads: Pick<PublishSchedulerOptions, 'list' | 'answered'> = {
    list: (...a) => h.writ.store.listEntities(...a),
    answered: async (tenant, requestId) => {
      const o = await h.writ.store.getOutcome(tenant, SYSTEM_ACTOR, requestId);
      return o ? { httpStatus: o.httpStatus, body: o.response } : null;
    },
  };
  const scheduler = (submit: SystemSubmit = system, held?: (tenant: string) => boolean) =>
    new PublishScheduler({ ...reads, submit, tenants: () => [h.tenant], now: clock.now, ...(held ? { held } : {}) });
  const as = (signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, { timestamp: clock.iso() }, signer));
  const ok = async (signer: Signer, action: string, payload: Record<string, unknown>) => assertOk(await as(signer, action, payload));
  const page = async (id: string) => (await h.get(`/v1/entities/${h.tenant}/page/${id}`)).body.doc;
  const recordsFor = async (requestId: string) => (await leaves(h, 'content')).filter((l) => l.requestId === requestId);

  /** An approved page with a publish scheduled `inMs` from now; returns the schedule's at and requestId. */
  async function scheduled(pageId: string, inMs = HOUR): Promise<{ at: string; requestId: string }> {
    await ok(editor, 'SaveDraftPage', { pageId, title: pageId, blocks: [{ type: 'text' }] });
    await ok(editor, 'SubmitForReview', { pageId });
    await ok(publisher, 'ApproveContent', { pageId });
    const body = await ok(publisher, 'SchedulePublish', { pageId, at: new Date(clock.ms + inMs).toISOString() });
    return { at: body.result.at, requestId: body.result.requestId };
  }

  it('does nothing before the schedule is due', async () => {
    const s = await scheduled('launch');
    clock.advance(HOUR - 1);
    assert.equal(await scheduler().tick(), 0);
    assert.equal((await page('launch')).status, 'approved');
    assert.deepEqual(await recordsFor(s.requestId), []);
  });

  it('publishes once when due, as the system actor writ, with the schedule\'s requestId, and records it on the page', async () => {
    const at = (await page('launch')).schedule.at;
    clock.advance(1);
    assert.equal(await scheduler().tick(), 1);
    const p = await page('launch');
    assert.equal(p.status, 'published');
    assert.deepEqual(p.live, { version: 1, versionId: 'launch@1' });
    assert.equal(p.schedule.status, 'published');
    assert.equal(p.schedule.closedBy, 'writ');
    assert.equal(p.schedule.versionId, 'launch@1');
    const version = (await h.get(`/v1/entities/${h.tenant}/page-version/launch@1`)).body.doc;
    assert.equal(version.publishedBy, 'writ');
    assert.equal(version.scheduledAt, at);
    assert.equal(version.scheduledBy, 'paul');
    const [record, ...more] = await recordsFor(`schedule:launch:${at}`);
    assert.equal(more.length, 0);
    assert.equal(record!.actor, 'writ');
    assert.equal(record!.action, 'PublishPageVersion');
    assert.equal(record!.outcome, 'OK');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/schedule/launch`)).body.deleted, true, 'the due-schedule index entry is gone');
  });

  it('does not publish twice: a second tick, and a restart, find nothing due', async () => {
    const before = (await leaves(h, 'content')).length;
    assert.equal(await scheduler().tick(), 0);
    await h.restart({ now: clock.now });
    assert.equal(await scheduler().tick(), 0);
    assert.equal((await leaves(h, 'content')).length, before, 'no record was added');
  });

  it('a publish resubmitted with the schedule\'s requestId after a restart is answered by idempotency, not applied again', async () => {
    const at = (await page('launch')).schedule.at;
    const requestId = `schedule:launch:${at}`;
    const same = await h.writ.pipeline.system(h.tenant, 'PublishPageVersion', { pageId: 'launch' }, requestId);
    assert.equal(same.replayed, true, 'the identical system command (same clock) replays the stored answer');
    clock.advance(1000);
    const later = await system(h.tenant, 'PublishPageVersion', { pageId: 'launch' }, requestId);
    assert.equal(JSON.parse(later.body).code, 'IDEMPOTENCY_KEY_REUSED', later.body);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page-version/launch@2`)).status, 404);
    assert.equal((await page('launch')).versions, 1);
    assert.equal((await recordsFor(requestId)).filter((r) => r.outcome === 'OK').length, 1);
  });

  it('a page locked after scheduling makes the publish fail: INVALID_STATE in the ledger, the schedule closed naming it', async () => {
    const s = await scheduled('held-page');
    await ok(publisher, 'LockContent', { pageId: 'held-page', reason: 'legal hold' });
    clock.advance(HOUR);
    assert.equal(await scheduler().tick(), 1);
    const [refused, ...more] = await recordsFor(s.requestId);
    assert.equal(more.length, 0);
    assert.equal(refused!.actor, 'writ');
    assert.equal(refused!.outcome, 'REJECTED');
    assert.equal(refused!.code, 'INVALID_STATE');
    const [cancel] = await recordsFor(`${s.requestId}:failed`);
    assert.equal(cancel!.action, 'CancelSchedule');
    assert.equal(cancel!.outcome, 'OK');
    const p = await page('held-page');
    assert.equal(p.status, 'approved');
    assert.equal(p.schedule.status, 'cancelled');
    assert.equal(p.schedule.closedBy, 'writ');
    assert.match(p.schedule.reason, new RegExp(`failed with INVALID_STATE \\(writ\\.local/${h.tenant}/content #${refused!.index}\\)`));
    assert.equal(await scheduler().tick(), 0, 'a failed schedule is not tried again');
    assert.equal((await recordsFor(s.requestId)).length, 1);
  });

  it('a page edited after scheduling (no longer approved) fails the same way', async () => {
    const s = await scheduled('edited');
    await ok(editor, 'SaveDraftPage', { pageId: 'edited', blocks: [] });
    clock.advance(HOUR);
    assert.equal(await scheduler().tick(), 1);
    assert.equal((await recordsFor(s.requestId))[0]!.code, 'INVALID_STATE');
    assert.equal((await page('edited')).status, 'draft');
    assert.equal((await page('edited')).schedule.status, 'cancelled');
  });

  it('a crash between the refused publish and closing the schedule neither publishes nor records the publish again', async () => {
    const s = await scheduled('crashy');
    await ok(publisher, 'LockContent', { pageId: 'crashy' });
    clock.advance(HOUR);
    const crashing: SystemSubmit = async (tenant, action, payload, requestId) => {
      if (action === 'CancelSchedule') throw new Error('crash before closing the schedule');
      return system(tenant, action, payload, requestId);
    };
    await assert.rejects(scheduler(crashing).tick(), /crash/);
    assert.equal((await page('crashy')).schedule.status, 'pending');
    await h.restart({ now: clock.now });
    await ok(publisher, 'UnlockContent', { pageId: 'crashy' });
    assert.equal(await scheduler().tick(), 1);
    const attempts = await recordsFor(s.requestId);
    assert.equal(attempts.length, 1, 'the stored outcome answered; the publish was not submitted again');
    assert.equal(attempts[0]!.code, 'INVALID_STATE');
    assert.equal((await page('crashy')).schedule.status, 'cancelled');
    assert.equal((await page('crashy')).status, 'approved', 'not published after the unlock either');
  });

  it('only the latest of replaced schedules fires', async () => {
    const first = await scheduled('moved', HOUR);
    const second = assertOk(await as(publisher, 'SchedulePublish', { pageId: 'moved', at: new Date(clock.ms + 2 * HOUR).toISOString() })).result;
    assert.equal(second.replaced, first.at);
    clock.advance(HOUR);
    assert.equal(await scheduler().tick(), 0);
    clock.advance(HOUR);
    assert.equal(await scheduler().tick(), 1);
    assert.deepEqual(await recordsFor(first.requestId), []);
    assert.equal((await recordsFor(second.requestId))[0]!.outcome, 'OK');
  });

  it('a cancelled schedule does not fire', async () => {
    const s = await scheduled('called-off');
    await ok(publisher, 'CancelSchedule', { pageId: 'called-off' });
    clock.advance(HOUR);
    assert.equal(await scheduler().tick(), 0);
    assert.deepEqual(await recordsFor(s.requestId), []);
  });

  it('a held tenant\'s schedules wait, pending, until it is released', async () => {
    await scheduled('waiting');
    clock.advance(HOUR);
    let held = true;
    const sched = scheduler(system, () => held);
    assert.equal(await sched.tick(), 0);
    assert.equal((await page('waiting')).schedule.status, 'pending');
    held = false;
    assert.equal(await sched.tick(), 1);
    assert.equal((await page('waiting')).status, 'published');
  });

  it('start() ticks on its interval and close() stops it', async () => {
    await scheduled('timed');
    clock.advance(HOUR);
    const sched = new PublishScheduler({ ...reads, submit: system, tenants: () => [h.tenant], now: clock.now, intervalMs: 10 });
    sched.start();
    for (let i = 0; i < 200 && (await page('timed')).status !== 'published'; i++) await new Promise((r) => setTimeout(r, 10));
    await sched.close();
    assert.equal((await page('timed')).status, 'published');
  });
});

/** The scheduler as writ runs it: the content pack's background job (docs/packs.md), on writ's clock. */
describeEachBackend('scheduled publishing as the content pack\'s background job', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  before(async () => {
    h = await startHarness({ scheduler: { enabled: true, intervalMs: 100 } }, { now: clock.now, backend });
  });
  after(() => h.close());

  it('publishes a due schedule in a running writ, as the system actor', async () => {
    const editor = await h.actor('erin', ['editor']);
    const publisher = await h.actor('paul', ['publisher']);
    const ok = async (signer: Signer, action: string, payload: Record<string, unknown>) => assertOk(await h.post(h.sign(action, payload, { timestamp: clock.iso() }, signer)));
    await ok(editor, 'SaveDraftPage', { pageId: 'job', title: 'job', blocks: [{ type: 'text' }] });
    await ok(editor, 'SubmitForReview', { pageId: 'job' });
    await ok(publisher, 'ApproveContent', { pageId: 'job' });
    const { result } = await ok(publisher, 'SchedulePublish', { pageId: 'job', at: new Date(clock.ms + HOUR).toISOString() });
    clock.advance(HOUR);
    let records: Awaited<ReturnType<typeof leaves>> = [];
    for (let i = 0; i < 300 && records.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      records = (await leaves(h, 'content')).filter((l) => l.requestId === result.requestId);
    }
    assert.equal(records.length, 1, 'the job published the page once');
    assert.equal(records[0]!.actor, 'writ');
    assert.equal(records[0]!.outcome, 'OK');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page/job`)).body.doc.status, 'published');
  });
});
