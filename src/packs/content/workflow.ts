import { WritError } from '../../core/errors.js';
import type { EffectContext } from '../../catalog/types.js';

/**
 * The content workflow (docs/approvals.md, "Content workflow"). `status` is where the working copy
 * of a page stands; `live` is what readers are served, and only PublishPageVersion and RollbackPage
 * move it. A lock is orthogonal to the status: it freezes the page, and unlocking returns it to the
 * status it had.
 */
export type PageStatus = 'draft' | 'in_review' | 'changes_requested' | 'approved' | 'published';

export interface PageDraft {
  readonly title?: string;
  readonly locale?: string;
  readonly blocks: unknown[];
  readonly rev: number;
}

/** The last review round: which draft revision was submitted, and what the reviewer decided. */
export interface PageReview {
  readonly rev: number;
  readonly submittedBy: string;
  readonly submittedAt: string;
  readonly decision?: 'approved' | 'changes_requested';
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly comment?: string;
}

export interface PageLock {
  readonly by: string;
  readonly at: string;
  readonly reason?: string;
}

/**
 * A scheduled publish and, once it is closed, what became of it: `published` by the scheduler,
 * `superseded` by a publish that came first, `cancelled` by CancelSchedule (the scheduler cancels a
 * schedule whose publish failed, naming the code in `reason`).
 */
export interface PageSchedule {
  readonly at: string;
  /** The requestId the scheduler publishes with (deterministic, so a restart cannot publish twice). */
  readonly requestId: string;
  readonly by: string;
  readonly requestedAt: string;
  readonly status: 'pending' | 'published' | 'superseded' | 'cancelled';
  readonly closedBy?: string;
  readonly closedAt?: string;
  readonly reason?: string;
  readonly versionId?: string;
}

export interface PageDoc {
  readonly pageId: string;
  readonly title?: string;
  readonly locale?: string;
  readonly status: PageStatus;
  readonly draft: PageDraft | null;
  readonly review: PageReview | null;
  readonly live: { readonly version: number; readonly versionId: string } | null;
  readonly versions: number;
  readonly locked: PageLock | null;
  readonly schedule: PageSchedule | null;
}

/** Which statuses each status-bound action accepts, and the status it leaves the page in. */
export const WORKFLOW: Readonly<Record<string, { readonly from: readonly PageStatus[]; readonly to?: PageStatus }>> = {
  SaveDraftPage: { from: ['draft', 'changes_requested', 'approved', 'published'], to: 'draft' },
  SubmitForReview: { from: ['draft', 'changes_requested'], to: 'in_review' },
  RequestChanges: { from: ['in_review'], to: 'changes_requested' },
  ApproveContent: { from: ['in_review'], to: 'approved' },
  PublishPageVersion: { from: ['approved'], to: 'published' },
  SchedulePublish: { from: ['approved'] },
};

/** The page the command targets, with documents written before the workflow read in its terms. */
export function readPage(ctx: EffectContext): PageDoc | null {
  if (!ctx.current || ctx.current.deleted) return null;
  const doc = ctx.current.doc as Omit<PageDoc, 'status'> & { status: PageStatus | 'review' };
  return { ...doc, status: doc.status === 'review' ? 'in_review' : doc.status, review: doc.review ?? null, locked: doc.locked ?? null, schedule: doc.schedule ?? null };
}

/** The page, or NOT_FOUND: every action but SaveDraftPage needs a page that exists. */
export function existingPage(ctx: EffectContext): PageDoc {
  const page = readPage(ctx);
  if (!page) throw new WritError('NOT_FOUND', `page ${JSON.stringify(ctx.target.id)} does not exist; save a draft first (SaveDraftPage)`);
  return page;
}

/** The actions the page's current state allows, named in every INVALID_STATE answer. */
export function nextActions(page: PageDoc): string[] {
  const pending = page.schedule?.status === 'pending';
  if (page.locked) return ['UnlockContent', ...(pending ? ['CancelSchedule'] : [])];
  const actions = Object.entries(WORKFLOW).filter(([, t]) => t.from.includes(page.status)).map(([name]) => name);
  // PublishPageVersion by versionId, and RollbackPage, move `live` whatever the status.
  if (page.versions > 0 && !actions.includes('PublishPageVersion')) actions.push('PublishPageVersion');
  if (page.versions > 1) actions.push('RollbackPage');
  if (pending) actions.push('CancelSchedule');
  actions.push('LockContent');
  return actions;
}

/** INVALID_STATE unless the page is unlocked. */
export function assertUnlocked(page: PageDoc, action: string): void {
  if (!page.locked) return;
  throw new WritError('INVALID_STATE', `page ${JSON.stringify(page.pageId)} is locked by ${page.locked.by}; ${action} needs it unlocked (UnlockContent)`, {
    details: { field: 'locked', current: 'locked', allowed: ['unlocked'], lockedBy: page.locked.by, status: page.status, next: nextActions(page) },
  });
}

/** INVALID_STATE unless the page is unlocked and in a status the action accepts. */
export function assertTransition(page: PageDoc, action: string): void {
  assertUnlocked(page, action);
  const allowed = WORKFLOW[action]!.from;
  if (allowed.includes(page.status)) return;
  throw new WritError('INVALID_STATE', `page ${JSON.stringify(page.pageId)} is ${page.status}; ${action} needs ${allowed.join(' or ')}`, {
    details: { field: 'status', current: page.status, allowed, next: nextActions(page) },
  });
}
