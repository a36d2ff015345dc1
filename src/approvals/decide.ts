import { WritError } from '../core/errors.js';
import type { ApprovalRequirement } from '../policy/requirement.js';
import { EXPIRE_ACTION, expiryRequestId, lapsed, type ApprovalDoc, type ApprovalStatus } from './pending.js';

/**
 * The decisions on a command held for approval (DESIGN §5), as pure functions of the approval's
 * document, who decides (with the roles it holds now) and the time. Each returns the approval's next
 * document or throws the refusal; the writ pack's handlers write the one and the applier records
 * the other.
 *
 * - A decision binds to the commandHash: one naming another hash is refused (APPROVAL_MISMATCH).
 * - Past its TTL a pending command can no longer be decided (APPROVAL_EXPIRED, see LapsedApproval).
 * - Quorum counts distinct approvers holding one of the required roles (any role when none is
 *   named); the requester's own approval counts only with `self=true`; nobody counts twice.
 * - The beneficiary of a command (the actor it grants something to) never counts, whatever `self`
 *   says; break-glass is refused to both the requester and the beneficiary (separation of duties,
 *   docs/security.md).
 * - One rejection by a holder of a required role rejects; the requester may always withdraw its
 *   own command (declining must never cost more than approving).
 */

/** Who decides, and when. `roles` are the roles the actor holds in state now. */
export interface Decider {
  readonly actor: string;
  readonly roles: readonly string[];
  readonly commandHash: string;
  readonly now: string;
}

/** A command writ applies on its own authority right after a refusal, in the same batch. */
export interface FollowUp {
  readonly action: string;
  readonly payload: Record<string, unknown>;
  readonly requestId: string;
}

/**
 * A refusal that noticed a deadline had passed. The applier records the refusal and then, in the
 * same transaction, applies `followUp` as writ's system actor (an expiry, a ceiling revert), with
 * the requestId the sweeper would use: each lapse is one ledger record, whoever notices it first.
 */
export class RefusalWithFollowUp extends WritError {
  constructor(error: WritError, readonly followUp: FollowUp) {
    super(error.code, error.message, { details: error.details as Record<string, unknown> | undefined, retryAfter: error.retryAfter });
  }
}

/** A decision on a command whose TTL has passed: refused, and the approval expired right after. */
export class LapsedApproval extends RefusalWithFollowUp {
  constructor(readonly approvalId: string, expiresAt: string) {
    super(new WritError('APPROVAL_EXPIRED', `the command held under approval ${approvalId} expired at ${expiresAt}; it can no longer be decided, submit it again`, { details: { approvalId, expiresAt } }), {
      action: EXPIRE_ACTION,
      payload: { approvalId },
      requestId: expiryRequestId(approvalId),
    });
  }
}

/**
 * The approval, checked to exist, to be bound to `commandHash` (when the decision names one), to be
 * in one of the `allowed` statuses and within its TTL.
 */
export function openApproval(doc: ApprovalDoc | null, approvalId: string, commandHash: string | undefined, now: string, allowed: readonly ApprovalStatus[] = ['pending']): ApprovalDoc {
  if (!doc) throw new WritError('NOT_FOUND', `no command is held under approval ${JSON.stringify(approvalId)}; GET /v1/approvals lists them`);
  if (commandHash !== undefined && doc.commandHash !== commandHash) {
    throw new WritError('APPROVAL_MISMATCH', `approval ${approvalId} holds the command ${doc.commandHash}, not ${commandHash}; a decision binds to exactly one command`, {
      details: { approvalId, commandHash: doc.commandHash },
    });
  }
  if (doc.status === 'expired') throw new WritError('APPROVAL_EXPIRED', `the command held under approval ${approvalId} expired at ${doc.expiresAt}`, { details: { approvalId, expiresAt: doc.expiresAt } });
  if (!allowed.includes(doc.status)) {
    const next = doc.status === 'approved' && doc.airlock ? '; it has its approvals and waits for the airlock (writ.Stage, writ.Land)' : '';
    throw new WritError('INVALID_STATE', `the command held under approval ${approvalId} is ${doc.status}${next}`, { details: { field: 'status', current: doc.status, allowed } });
  }
  if (lapsed(doc, Date.parse(now))) throw new LapsedApproval(approvalId, doc.expiresAt);
  return doc;
}

/** Refuses to change a command staged in the airlock: it is frozen until it lands or reverts. */
export function notStaged(doc: ApprovalDoc): ApprovalDoc {
  if (doc.airlock?.status === 'staged') {
    throw new WritError('INVALID_STATE', `the command held under approval ${doc.id} is staged in the airlock and frozen; revert it first (writ.Revert)`, { details: { field: 'airlock', current: 'staged', allowed: ['open'] } });
  }
  return doc;
}

/** Whether `roles` may decide under `requirement`: one of its roles, or any role when it names none. */
export function mayDecide(requirement: ApprovalRequirement, roles: readonly string[]): boolean {
  return requirement.roles.length === 0 ? roles.length > 0 : roles.some((r) => requirement.roles.includes(r));
}

function needed(requirement: ApprovalRequirement): string {
  return requirement.roles.length ? `one of the roles ${requirement.roles.join(', ')}` : 'a role';
}

/**
 * Refuses the actor a held command grants something to (its beneficiary) the decision `verb`:
 * nobody approves, lands or breaks the glass on their own grant. `instead` says who must.
 */
export function notBeneficiary(doc: ApprovalDoc, actor: string, verb: string, instead: string): void {
  if (doc.beneficiary !== undefined && actor === doc.beneficiary) {
    throw new WritError('SELF_APPROVAL', `${actor} is the beneficiary of this command (it grants ${actor} something) and may not ${verb} it; ${instead}`);
  }
}

/** Adds an approval; the result has status `approved` when it completes the quorum. */
export function approve(doc: ApprovalDoc, d: Decider): ApprovalDoc {
  const r = doc.requirement;
  if (d.actor === doc.requester && !r.allowSelf) throw new WritError('SELF_APPROVAL', `${d.actor} requested this command and may not approve it (${r.policy} does not allow self-approval)`);
  notBeneficiary(doc, d.actor, 'approve', `it needs ${needed(r)} held by others (${r.policy})`);
  if (!mayDecide(r, d.roles)) throw new WritError('FORBIDDEN', `${d.actor} may not approve this command: it needs ${needed(r)} (${r.policy})`, { details: { roles: r.roles } });
  if (doc.approvals.some((a) => a.actor === d.actor)) {
    throw new WritError('INVALID_STATE', `${d.actor} approved this command already; each approver counts once`, { details: { field: 'approvals', current: doc.approvals.map((a) => a.actor) } });
  }
  const approvals = [...doc.approvals, { actor: d.actor, at: d.now, roles: [...d.roles] }];
  return { ...doc, approvals, status: approvals.length >= r.quorum ? 'approved' : 'pending' };
}

/** Rejects the command (or withdraws it, when its requester decides). */
export function reject(doc: ApprovalDoc, d: Decider, reason: string): ApprovalDoc {
  notStaged(doc);
  if (d.actor !== doc.requester && !mayDecide(doc.requirement, d.roles)) {
    throw new WritError('FORBIDDEN', `${d.actor} may not reject this command: it needs ${needed(doc.requirement)} (${doc.requirement.policy}), or to be its requester`, { details: { roles: doc.requirement.roles } });
  }
  return { ...doc, status: 'rejected', rejections: [...doc.rejections, { actor: d.actor, at: d.now, roles: [...d.roles], reason }] };
}

/**
 * Runs the command at once (policy decides who may break the glass); a review is opened with it.
 * Not by its requester nor its beneficiary: break-glass skips the quorum, never the second person.
 */
export function breakGlass(doc: ApprovalDoc, d: Decider, reason: string): ApprovalDoc {
  const instead = 'another holder of role breakglass must, or its approvers approve it';
  if (d.actor === doc.requester) throw new WritError('SELF_APPROVAL', `${d.actor} requested this command and may not break the glass on it; ${instead}`);
  notBeneficiary(doc, d.actor, 'break the glass on', instead);
  return { ...doc, status: 'approved', breakGlass: { actor: d.actor, at: d.now, reason, reviewId: doc.id } };
}

/** Expires a pending command whose TTL has passed. */
export function expire(doc: ApprovalDoc | null, approvalId: string, now: string): ApprovalDoc {
  if (!doc) throw new WritError('NOT_FOUND', `no command is held under approval ${JSON.stringify(approvalId)}`);
  if (doc.status !== 'pending' && doc.status !== 'approved') {
    throw new WritError('INVALID_STATE', `the command held under approval ${approvalId} is ${doc.status} already`, { details: { field: 'status', current: doc.status, allowed: ['pending', 'approved'] } });
  }
  notStaged(doc);
  if (!lapsed(doc, Date.parse(now))) throw new WritError('INVALID_STATE', `approval ${approvalId} expires at ${doc.expiresAt}, not yet`, { details: { expiresAt: doc.expiresAt } });
  return { ...doc, status: 'expired' };
}

/** The answer a held command ends with when it does not run. */
export function refusalOf(doc: ApprovalDoc): { code: 'APPROVAL_REJECTED' | 'APPROVAL_EXPIRED'; message: string } {
  if (doc.status === 'expired') return { code: 'APPROVAL_EXPIRED', message: `the command was held for approval and expired at ${doc.expiresAt} before its quorum` };
  const r = doc.rejections[doc.rejections.length - 1]!;
  const who = r.actor === doc.requester ? `withdrawn by its requester ${r.actor}` : `rejected by ${r.actor}`;
  return { code: 'APPROVAL_REJECTED', message: `the command was held for approval and ${who}: ${r.reason}` };
}
