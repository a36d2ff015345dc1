import type { HoldRequest } from '../../approvals/pending.js';
import { WritError } from '../../core/errors.js';
import { uuidv7 } from '../../core/uuid7.js';
import { describeRequirement } from '../../policy/requirement.js';
import type { CommandContext } from '../context.js';

/**
 * The approval stage (DESIGN §1, §5): a command whose policy asks for approval (`ctx.approval`, set
 * by authorize) is not applied but held. This stage names the approval (a UUIDv7) and fixes its
 * deadline (`ttl` from the deciding permit) on the context; the apply stage then writes, in one
 * transaction, the PENDING ledger record, the `approval` entity and the stored 202 answer. The
 * decisions that follow (writ.Approve, writ.Reject, writ.BreakGlass, writ.ExpireApproval) are
 * commands of their own, applied by the writ pack's handlers and the applier.
 *
 * A command whose permit also asks for the TOTP airlock is refused (fail closed): writ does not
 * stage and land commands yet, so it must not hold one that could never run.
 */
export function approval(ctx: CommandContext, now: number): HoldRequest | undefined {
  const requirement = ctx.approval;
  if (!requirement) return undefined;
  if (requirement.airlock) {
    throw new WritError(
      'FORBIDDEN',
      `${ctx.envelope.actor} may run ${ctx.action!.name} only after approval and the TOTP airlock (${describeRequirement(requirement)}, by ${requirement.policy}); ` +
        'this writ does not run the airlock yet, so the command is refused',
      { details: { requirement } },
    );
  }
  ctx.hold = { approvalId: uuidv7(now), requirement, createdAtMs: now, expiresAtMs: now + requirement.ttlSeconds * 1000 };
  return ctx.hold;
}
