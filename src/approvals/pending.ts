import type { Envelope } from '../core/envelope.js';
import type { AirlockState } from './airlock.js';
import type { ApprovalRequirement } from '../policy/requirement.js';

/**
 * A command held for approval (DESIGN §5) lives in state as one `approval/<id>` entity, written in
 * the same transaction as the command's PENDING ledger record, and changed by every decision on it
 * (writ.Approve, writ.Reject, writ.BreakGlass, writ.ExpireApproval). Everything an approver or the
 * sweeper needs is read from this entity and from the open-approval index below, never from the
 * ledger.
 */
export const APPROVAL_TYPE = 'approval';

/**
 * Entity type of the open-approval index: `approval-open/<id>` exists (is not a tombstone) exactly
 * while approval `<id>` is pending. The sweeper and `GET /v1/approvals?status=pending` list these,
 * so their cost grows with the pending approvals, not with every approval ever made.
 */
export const OPEN_APPROVAL_TYPE = 'approval-open';

/** Entity type of the post-hoc review a break-glass opens (`review/<approvalId>`). */
export const REVIEW_TYPE = 'review';

/**
 * pending → executed (the command ran) | failed (a re-check at execution refused it) |
 * rejected (an approver, or the requester, declined) | expired (its TTL passed first).
 * `approved`: the quorum is reached. A command without an airlock runs in that same transaction
 * (so no stored version of it says `approved`); one with an airlock stays `approved` until it is
 * staged and landed (writ.Stage, writ.Land).
 */
export type ApprovalStatus = 'pending' | 'approved' | 'executed' | 'failed' | 'rejected' | 'expired';

export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'executed', 'failed', 'rejected', 'expired'];

/** Statuses in which a command has not ended yet. */
export const OPEN_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved'];

export interface Vote {
  readonly actor: string;
  readonly at: string;
  /** The roles the approver held when it decided. */
  readonly roles: readonly string[];
}

export interface Rejection extends Vote {
  readonly reason: string;
}

export interface BreakGlass {
  readonly actor: string;
  readonly at: string;
  readonly reason: string;
  readonly reviewId: string;
}

/** How the held command ended, once it has: its final answer's status and code and its record. */
export interface Settlement {
  readonly status: 'OK' | 'ERROR';
  readonly code: string | null;
  readonly at: string;
  readonly by: string;
}

export interface ApprovalDoc {
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly tenant: string;
  readonly requester: string;
  /**
   * The actor the command grants something to (its action's `beneficiary` in actions.yaml), fixed
   * when it was held; absent when it grants nobody in particular. Never counts as an approver.
   */
  readonly beneficiary?: string;
  readonly requestId: string;
  readonly commandHash: string;
  readonly action: string;
  /** `<type>/<id>` of the command's target. */
  readonly target: string;
  /** The envelope as authenticated (with its signature when it was signed): what runs on quorum. */
  readonly envelope: Envelope;
  /** SHA-256 of the signature bytes, so a byte-identical retry is answered from the stored outcome. */
  readonly sigDigest: string | null;
  readonly requirement: ApprovalRequirement;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** The PENDING record: log (scroll) and index. */
  readonly pending: { readonly scroll: string; readonly index: number };
  readonly approvals: readonly Vote[];
  readonly rejections: readonly Rejection[];
  readonly breakGlass?: BreakGlass;
  readonly settled?: Settlement;
  /** Where the command stands in the TOTP airlock, when its permit asks for one (`@airlock`). */
  readonly airlock?: AirlockState;
}

/** What a pending answer says about its approval (also hashed into the PENDING record's resultHash). */
export interface PendingSummary {
  readonly id: string;
  readonly requirement: ApprovalRequirement;
  readonly expiresAt: string;
}

/** What the approval stage decided for a command that must wait: its approval id and deadline. */
export interface HoldRequest {
  readonly approvalId: string;
  readonly requirement: ApprovalRequirement;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export function pendingSummary(hold: HoldRequest): PendingSummary {
  return { id: hold.approvalId, requirement: hold.requirement, expiresAt: new Date(hold.expiresAtMs).toISOString() };
}

/** The document of the open-approval index entry. */
export interface OpenApprovalDoc {
  readonly approvalId: string;
  readonly expiresAt: string;
  /** The held command's idempotency key, which must stay known while it is pending. */
  readonly requester: string;
  readonly requestId: string;
  /** Set while the command is staged in the airlock: it reverts itself past this moment. */
  readonly ceilingAt?: string;
}

/** The open-approval index entry of an approval; `ceilingAt` while it is staged. */
export function openIndexDoc(doc: ApprovalDoc, ceilingAt?: string): OpenApprovalDoc {
  return { approvalId: doc.id, expiresAt: doc.expiresAt, requester: doc.requester, requestId: doc.requestId, ...(ceilingAt ? { ceilingAt } : {}) };
}

/** The system action that expires a pending command past its TTL. */
export const EXPIRE_ACTION = 'writ.ExpireApproval';

/** The requestId with which writ's system actor expires an approval (lazily or by the sweeper). */
export function expiryRequestId(approvalId: string): string {
  return `expire:${approvalId}`;
}

/** The system action that reverts a staged command past its airlock ceiling. */
export const REVERT_ACTION = 'writ.Revert';

/** The requestId with which writ reverts a staging past its ceiling (one per staging). */
export function ceilingRevertRequestId(approvalId: string, ceilingAtMs: number): string {
  return `revert:${approvalId}:${ceilingAtMs}`;
}

/**
 * True once the TTL has passed (the command can no longer be decided). A command staged in the
 * airlock is frozen: its ceiling governs it instead, and the TTL applies again if it reverts.
 */
export function lapsed(doc: ApprovalDoc, nowMs: number): boolean {
  return doc.airlock?.status !== 'staged' && nowMs >= Date.parse(doc.expiresAt);
}
