import { APPROVAL_TYPE, OPEN_APPROVAL_TYPE, pendingSummary, type ApprovalDoc, type OpenApprovalDoc } from '../../approvals/pending.js';
import { OPEN } from '../../approvals/airlock.js';
import { beneficiaryOf } from '../../catalog/catalog.js';
import { jcs } from '../../canonical/jcs.js';
import { sha256Hex } from '../../core/hash.js';
import type { CommandContext, Reply } from '../context.js';
import type { LedgerWriter, Writes } from './ledger-writer.js';

/** Outbox event type of a command held for approval (approvers may be notified from it). */
export const APPROVAL_REQUESTED_EVENT = 'approval.requested';

/**
 * Holds a command for approval (ctx.hold, set by the approval stage): one PENDING record of the
 * command in its own log, whose resultHash commits to `{id, requirement, expiresAt}`; the
 * `approval/<id>` entity with everything needed to decide and to run it later; the open-approval
 * index entry; an `approval.requested` outbox event; and the stored 202 answer.
 */
export async function holdCommand(writer: LedgerWriter, w: Writes, ctx: CommandContext, nowMs: number): Promise<Reply> {
  const hold = ctx.hold!;
  const env = ctx.envelope;
  const action = ctx.action!;
  const ts = new Date(nowMs).toISOString();
  const summary = pendingSummary(hold);
  const target = `${ctx.target!.type}/${ctx.target!.id}`;
  const beneficiary = beneficiaryOf(action, env.payload);
  const doc: ApprovalDoc = {
    id: hold.approvalId,
    status: 'pending',
    tenant: env.tenant,
    requester: env.actor,
    ...(beneficiary !== undefined ? { beneficiary } : {}),
    requestId: env.requestId,
    commandHash: ctx.commandHash,
    action: action.name,
    target,
    envelope: env,
    sigDigest: ctx.auth.sigDigest,
    requirement: hold.requirement,
    createdAt: ts,
    expiresAt: summary.expiresAt,
    pending: { scroll: action.scroll, index: writer.sequencer.peek(env.tenant, action.scroll) },
    approvals: [],
    rejections: [],
    ...(hold.requirement.airlock ? { airlock: OPEN } : {}),
  };
  const open: OpenApprovalDoc = { approvalId: hold.approvalId, expiresAt: summary.expiresAt, requester: env.actor, requestId: env.requestId };
  const writes = [
    { type: APPROVAL_TYPE, id: hold.approvalId, doc },
    { type: OPEN_APPROVAL_TYPE, id: hold.approvalId, doc: open },
  ];
  const rows = await writer.entityRows(ctx, writes, action.scroll, null, ts);
  const { record, receipt } = writer.append(w, ctx, { scroll: action.scroll, outcome: 'PENDING', code: null, target, version: null, resultHash: sha256Hex(jcs(summary)) }, ts);
  writer.putEntities(w, rows);
  writer.event(w, ctx, record, APPROVAL_REQUESTED_EVENT, { actor: env.actor, requestId: env.requestId, approval: summary }, nowMs);
  const body = JSON.stringify({ status: 'PENDING_APPROVAL', requestId: env.requestId, commandHash: ctx.commandHash, approval: summary, receipt });
  writer.storeOutcome(w, ctx, 202, body, nowMs, record);
  return { httpStatus: 202, body, replayed: false };
}
