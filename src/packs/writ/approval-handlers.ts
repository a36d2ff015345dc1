import * as decide from '../../approvals/decide.js';
import { OPEN_APPROVAL_TYPE, OPEN_STATUSES, REVIEW_TYPE, type ApprovalDoc, type ApprovalStatus } from '../../approvals/pending.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { unstage } from './airlock-index.js';

/**
 * Handlers of the decisions on a command held for approval: writ.Approve, writ.Reject,
 * writ.BreakGlass and writ.ExpireApproval (target `approval/<approvalId>`), and writ.CloseReview.
 * Each writes the approval's next document; when the command reaches its end, the plan says so
 * (`settle`) and the applier runs it, or records it refused, in the same transaction.
 */

/**
 * A break-glass execution's post-hoc review: open until an admin who took no part in it (not the
 * requester, the breaker or the beneficiary) closes it (writ.CloseReview).
 */
export interface ReviewDoc {
  readonly id: string;
  readonly kind: 'break-glass';
  readonly status: 'open' | 'closed';
  readonly approvalId: string;
  readonly requester: string;
  /** The actor the command granted something to, if any (see ApprovalDoc.beneficiary). */
  readonly beneficiary?: string;
  readonly requestId: string;
  readonly action: string;
  readonly target: string;
  readonly commandHash: string;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly reason: string;
  readonly closedBy?: string;
  readonly closedAt?: string;
  readonly note?: string;
}

/** The roles the deciding actor holds now (inside the apply transaction, so never stale). */
export async function decider(ctx: EffectContext): Promise<decide.Decider> {
  const roles = await ctx.roles(ctx.envelope.actor);
  return { actor: ctx.envelope.actor, roles, commandHash: ctx.payload.commandHash as string, now: ctx.now };
}

function current(ctx: EffectContext, allowed: readonly ApprovalStatus[] = ['pending']): ApprovalDoc {
  return decide.openApproval((ctx.current?.doc as ApprovalDoc | undefined) ?? null, ctx.target.id, ctx.payload.commandHash as string, ctx.now, allowed);
}

/** The approval's next document; when the command ends with it, its open-index entry goes. */
function writes(ctx: EffectContext, doc: ApprovalDoc, ending: boolean): EffectPlan['writes'] {
  return [{ ...ctx.target, doc }, ...(ending ? [{ type: OPEN_APPROVAL_TYPE, id: doc.id, deleted: true }] : [])];
}

function summary(doc: ApprovalDoc) {
  return { approvalId: doc.id, status: doc.status, approvals: doc.approvals.length, quorum: doc.requirement.quorum };
}

/** On its quorum a command runs at once, unless its permit asks for the airlock: then it waits to be staged and landed. */
export async function approve(ctx: EffectContext): Promise<EffectPlan> {
  const doc = decide.approve(current(ctx), await decider(ctx));
  const runs = doc.status === 'approved' && !doc.airlock;
  return { writes: writes(ctx, doc, runs), result: summary(doc), ...(runs ? { settle: { approvalId: doc.id } } : {}) };
}

export async function reject(ctx: EffectContext): Promise<EffectPlan> {
  const doc = decide.reject(current(ctx, OPEN_STATUSES), await decider(ctx), ctx.payload.reason as string);
  return { writes: writes(ctx, doc, true), result: summary(doc), settle: { approvalId: doc.id, refusal: decide.refusalOf(doc) } };
}

export async function breakGlass(ctx: EffectContext): Promise<EffectPlan> {
  const held = current(ctx, OPEN_STATUSES);
  // Break-glass overrides the airlock too: a staged command leaves the index of staged commands.
  const unstaged = held.airlock?.status === 'staged' ? await unstage(ctx, held) : [];
  const doc = decide.breakGlass(held, await decider(ctx), ctx.payload.reason as string);
  const review: ReviewDoc = {
    id: doc.id,
    kind: 'break-glass',
    status: 'open',
    approvalId: doc.id,
    requester: doc.requester,
    ...(doc.beneficiary !== undefined ? { beneficiary: doc.beneficiary } : {}),
    requestId: doc.requestId,
    action: doc.action,
    target: doc.target,
    commandHash: doc.commandHash,
    openedBy: ctx.envelope.actor,
    openedAt: ctx.now,
    reason: ctx.payload.reason as string,
  };
  return {
    writes: [...writes(ctx, doc, true), ...unstaged, { type: REVIEW_TYPE, id: review.id, doc: review }],
    result: { ...summary(doc), breakGlass: true, reviewId: review.id },
    settle: { approvalId: doc.id },
  };
}

export function expireApproval(ctx: EffectContext): EffectPlan {
  const doc = decide.expire((ctx.current?.doc as ApprovalDoc | undefined) ?? null, ctx.target.id, ctx.now);
  return { writes: writes(ctx, doc, true), result: summary(doc), settle: { approvalId: doc.id, refusal: decide.refusalOf(doc) } };
}

export function closeReview(ctx: EffectContext): EffectPlan {
  const review = ctx.current?.doc as ReviewDoc | undefined;
  if (!review) throw new WritError('NOT_FOUND', `there is no review ${JSON.stringify(ctx.target.id)}`);
  if (review.status !== 'open') throw new WritError('INVALID_STATE', `review ${review.id} was closed by ${review.closedBy} at ${review.closedAt}`, { details: { field: 'status', current: review.status, allowed: ['open'] } });
  // Policy lets admins close reviews; none who took part in the break-glass may review it.
  const actor = ctx.envelope.actor;
  const parts: Array<[string | undefined, string]> = [[review.openedBy, 'broke the glass'], [review.requester, 'requested the command'], [review.beneficiary, 'is the beneficiary of the command']];
  const part = parts.find(([who]) => who === actor);
  if (part) throw new WritError('SELF_APPROVAL', `${actor} ${part[1]} and may not close its review; an admin who is neither its requester, its breaker nor its beneficiary must`);
  const doc: ReviewDoc = { ...review, status: 'closed', closedBy: ctx.envelope.actor, closedAt: ctx.now, note: ctx.payload.note as string };
  return { writes: [{ ...ctx.target, doc }], result: { reviewId: doc.id, status: doc.status } };
}
