import type { HoldRequest } from '../../approvals/pending.js';
import { uuidv7 } from '../../core/uuid7.js';
import type { CommandContext } from '../context.js';

/**
 * The approval stage (DESIGN §1, §5): a command whose policy asks for approval (`ctx.approval`, set
 * by authorize) is not applied but held. This stage names the approval (a UUIDv7) and fixes its
 * deadline (`ttl` from the deciding permit) on the context; the apply stage then writes, in one
 * transaction, the PENDING ledger record, the `approval` entity and the stored 202 answer. The
 * decisions that follow (writ.Approve, writ.Reject, writ.BreakGlass, writ.ExpireApproval) are
 * commands of their own, applied by the writ pack's handlers and the applier.
 *
 * A command whose permit also asks for the TOTP airlock waits, once approved, to be staged and
 * landed (writ.Stage, writ.Land).
 */
export function approval(ctx: CommandContext, now: number): HoldRequest | undefined {
  const requirement = ctx.approval;
  if (!requirement) return undefined;
  ctx.hold = { approvalId: uuidv7(now), requirement, createdAtMs: now, expiresAtMs: now + requirement.ttlSeconds * 1000 };
  return ctx.hold;
}
