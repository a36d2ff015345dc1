import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { SCHEDULE_TYPE, scheduleRequestId, type ScheduleIndexDoc } from './schedule.js';
import { assertTransition, assertUnlocked, existingPage, nextActions, readPage, type PageDoc, type PageSchedule } from './workflow.js';

type Write = EffectPlan['writes'][number];

function pageWrite(ctx: EffectContext, doc: PageDoc): Write {
  return { ...ctx.target, doc };
}

/** The tombstone of the page's due-schedule index entry, when it has a pending schedule. */
function closeIndex(page: PageDoc): Write[] {
  return page.schedule?.status === 'pending' ? [{ type: SCHEDULE_TYPE, id: page.pageId, deleted: true }] : [];
}

export function saveDraft(ctx: EffectContext): EffectPlan {
  const p = ctx.payload;
  const prev = readPage(ctx);
  if (prev) assertTransition(prev, 'SaveDraftPage');
  const draft = { title: p.title ?? prev?.draft?.title ?? prev?.title, locale: p.locale ?? prev?.draft?.locale ?? prev?.locale, blocks: p.blocks, rev: (prev?.draft?.rev ?? 0) + 1 };
  const doc: PageDoc = {
    pageId: p.pageId,
    title: prev?.title ?? draft.title,
    locale: prev?.locale ?? draft.locale,
    status: 'draft',
    draft,
    review: prev?.review ?? null,
    live: prev?.live ?? null,
    versions: prev?.versions ?? 0,
    locked: prev?.locked ?? null,
    schedule: prev?.schedule ?? null,
  };
  return { writes: [pageWrite(ctx, doc)], result: { pageId: p.pageId, draftRev: draft.rev } };
}

export function submitForReview(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  assertTransition(prev, 'SubmitForReview');
  const rev = prev.draft!.rev;
  const doc: PageDoc = { ...prev, status: 'in_review', review: { rev, submittedBy: ctx.envelope.actor, submittedAt: ctx.now } };
  return { writes: [pageWrite(ctx, doc)], result: { pageId: prev.pageId, status: doc.status, rev } };
}

/** RequestChanges and ApproveContent: the reviewer's decision on the draft revision in review. */
function decide(ctx: EffectContext, action: 'RequestChanges' | 'ApproveContent', status: 'changes_requested' | 'approved'): EffectPlan {
  const prev = existingPage(ctx);
  assertTransition(prev, action);
  const comment = ctx.payload.comment as string | undefined;
  // A page left in the old `review` status by an earlier writ has no review round on record.
  const round = prev.review ?? { rev: prev.draft?.rev ?? 0, submittedBy: 'unknown', submittedAt: ctx.now };
  const review = { ...round, decision: status, decidedBy: ctx.envelope.actor, decidedAt: ctx.now, ...(comment !== undefined ? { comment } : {}) };
  const doc: PageDoc = { ...prev, status, review };
  return { writes: [pageWrite(ctx, doc)], result: { pageId: prev.pageId, status, rev: review.rev } };
}

export function requestChanges(ctx: EffectContext): EffectPlan {
  return decide(ctx, 'RequestChanges', 'changes_requested');
}

export function approveContent(ctx: EffectContext): EffectPlan {
  return decide(ctx, 'ApproveContent', 'approved');
}

/**
 * Without versionId: snapshots the APPROVED draft as the next version and makes it live; any other
 * status is INVALID_STATE (publishing goes through review). A pending schedule is closed in the same
 * record: `published` when this is the scheduler's own publish, `superseded` otherwise.
 * With versionId: makes a version published earlier (approved then) live again; status, draft and
 * schedule are left as they are.
 */
export async function publish(ctx: EffectContext): Promise<EffectPlan> {
  const prev = existingPage(ctx);
  if (typeof ctx.payload.versionId === 'string') {
    assertUnlocked(prev, 'PublishPageVersion');
    const versionId = ctx.payload.versionId;
    const existing = await ctx.get('page-version', versionId);
    if (!existing || existing.deleted || (existing.doc as { pageId: string }).pageId !== prev.pageId) {
      throw new WritError('NOT_FOUND', `version ${JSON.stringify(versionId)} of page ${JSON.stringify(prev.pageId)} does not exist`);
    }
    const version = (existing.doc as { version: number }).version;
    return { writes: [pageWrite(ctx, { ...prev, live: { version, versionId } })], result: { pageId: prev.pageId, versionId, version } };
  }
  assertTransition(prev, 'PublishPageVersion');
  const draft = prev.draft!;
  const version = prev.versions + 1;
  const versionId = `${prev.pageId}@${version}`;
  const { actor, requestId } = ctx.envelope;
  const scheduled = prev.schedule?.status === 'pending' && prev.schedule.requestId === requestId;
  const snapshot = {
    pageId: prev.pageId,
    version,
    title: draft.title,
    locale: draft.locale,
    blocks: draft.blocks,
    rev: draft.rev,
    approvedBy: prev.review?.decidedBy ?? null,
    approvedAt: prev.review?.decidedAt ?? null,
    publishedAt: ctx.now,
    publishedBy: actor,
    ...(scheduled ? { scheduledAt: prev.schedule!.at, scheduledBy: prev.schedule!.by } : {}),
  };
  const schedule: PageSchedule | null =
    prev.schedule?.status === 'pending' ? { ...prev.schedule, status: scheduled ? 'published' : 'superseded', closedBy: actor, closedAt: ctx.now, versionId } : prev.schedule;
  const doc: PageDoc = { ...prev, title: draft.title, locale: draft.locale, status: 'published', draft: null, live: { version, versionId }, versions: version, schedule };
  return {
    writes: [pageWrite(ctx, doc), { type: 'page-version', id: versionId, doc: snapshot }, ...closeIndex(prev)],
    result: { pageId: prev.pageId, versionId, version },
  };
}

export function rollback(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  assertUnlocked(prev, 'RollbackPage');
  const to = ctx.payload.toVersion as number;
  if (to > prev.versions) throw new WritError('NOT_FOUND', `page ${JSON.stringify(prev.pageId)} has ${prev.versions} published versions; there is no version ${to}`);
  if (prev.live?.version === to) throw new WritError('INVALID_STATE', `version ${to} of page ${JSON.stringify(prev.pageId)} is already live`, { details: { field: 'live', current: to, next: nextActions(prev) } });
  const versionId = `${prev.pageId}@${to}`;
  return { writes: [pageWrite(ctx, { ...prev, live: { version: to, versionId } })], result: { pageId: prev.pageId, versionId, version: to } };
}

/** `at` as UTC with milliseconds, or INVALID_PAYLOAD when it is not later than the record's time. */
function futureInstant(ctx: EffectContext, field: string): string {
  const ms = Date.parse(ctx.payload[field] as string);
  const at = Number.isNaN(ms) ? '' : new Date(ms).toISOString();
  const problem = !/^\d{4}-/.test(at) ? 'must be an RFC 3339 date-time between years 0000 and 9999' : ms <= Date.parse(ctx.now) ? `must be later than now (${ctx.now})` : undefined;
  if (problem) throw new WritError('INVALID_PAYLOAD', `payload of SchedulePublish is invalid: /${field} ${problem}`, { details: { errors: [{ path: `/${field}`, message: problem }] } });
  return at;
}

/**
 * Records a scheduled publish of the approved draft on the page and in the due-schedule index. A
 * pending schedule is replaced (the result names it). `at` not in the future is INVALID_PAYLOAD (no
 * state of the page could make it valid); a page that is not approved is INVALID_STATE.
 */
export function schedulePublish(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  assertTransition(prev, 'SchedulePublish');
  const at = futureInstant(ctx, 'at');
  const requestId = scheduleRequestId(prev.pageId, at);
  const replaced = prev.schedule?.status === 'pending' ? prev.schedule.at : null;
  const schedule: PageSchedule = { at, requestId, by: ctx.envelope.actor, requestedAt: ctx.now, status: 'pending' };
  const index: ScheduleIndexDoc = { pageId: prev.pageId, at, requestId };
  return {
    writes: [pageWrite(ctx, { ...prev, schedule }), { type: SCHEDULE_TYPE, id: prev.pageId, doc: index }],
    result: { pageId: prev.pageId, at, requestId, replaced },
  };
}

/**
 * Withdraws the pending schedule. Allowed on a locked page: it changes neither what the page says
 * nor what is live, it only takes back a change that was to come (and it is how the scheduler closes
 * a schedule whose publish failed, say because the page was locked meanwhile).
 */
export function cancelSchedule(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  const pending = prev.schedule?.status === 'pending' ? prev.schedule : null;
  const at = ctx.payload.at as string | undefined;
  if (!pending || (at !== undefined && Date.parse(at) !== Date.parse(pending.at))) {
    const current = pending ? `pending for ${pending.at}` : (prev.schedule?.status ?? 'none');
    throw new WritError('INVALID_STATE', `page ${JSON.stringify(prev.pageId)} has no pending schedule${at !== undefined ? ` for ${at}` : ''} (schedule: ${current})`, {
      details: { field: 'schedule', current: prev.schedule?.status ?? null, at: prev.schedule?.at ?? null, allowed: ['pending'] },
    });
  }
  const reason = ctx.payload.reason as string | undefined;
  const schedule: PageSchedule = { ...pending, status: 'cancelled', closedBy: ctx.envelope.actor, closedAt: ctx.now, ...(reason !== undefined ? { reason } : {}) };
  return { writes: [pageWrite(ctx, { ...prev, schedule }), ...closeIndex(prev)], result: { pageId: prev.pageId, at: pending.at, status: 'cancelled' } };
}

export function lockContent(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  assertUnlocked(prev, 'LockContent');
  const reason = ctx.payload.reason as string | undefined;
  const locked = { by: ctx.envelope.actor, at: ctx.now, ...(reason !== undefined ? { reason } : {}) };
  return { writes: [pageWrite(ctx, { ...prev, locked })], result: { pageId: prev.pageId, locked: true, status: prev.status } };
}

export function unlockContent(ctx: EffectContext): EffectPlan {
  const prev = existingPage(ctx);
  if (!prev.locked) {
    throw new WritError('INVALID_STATE', `page ${JSON.stringify(prev.pageId)} is not locked`, { details: { field: 'locked', current: 'unlocked', allowed: ['locked'], status: prev.status, next: nextActions(prev) } });
  }
  return { writes: [pageWrite(ctx, { ...prev, locked: null })], result: { pageId: prev.pageId, locked: false, status: prev.status } };
}
