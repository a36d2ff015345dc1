import { WritError } from '../../core/errors.js';
import type { Policy } from '../../policy/cedar.js';
import { describeRequirement, type ApprovalRequirement } from '../../policy/requirement.js';
import type { Directory } from '../../state/directory.js';
import type { CommandContext } from '../context.js';

/**
 * Asks Cedar whether the actor, with the roles state gives it, may run the action on the target,
 * and puts what the deciding permit asks for (`ctx.approval`) on the context: null when the command
 * may run outright.
 */
export function authorize(ctx: CommandContext, policy: Policy, directory: Directory): void {
  const { tenant, actor, payload } = ctx.envelope;
  const action = ctx.action!;
  ctx.roles = directory.rolesOf(tenant, actor);
  const decision = policy.authorize({ tenant, actor, roles: ctx.roles, action: action.name, pack: action.pack, target: `${ctx.target!.type}/${ctx.target!.id}`, payload });
  if (!decision.allowed) {
    throw new WritError('FORBIDDEN', `${actor} may not run ${action.name}${ctx.roles.length ? ` with roles ${ctx.roles.join(', ')}` : ' (no roles)'}`, {
      details: { policies: decision.reasons },
    });
  }
  ctx.approval = decision.requirement;
  if (ctx.approval) refuseUntilApprovalStage(ctx, ctx.approval, decision.reasons);
}

/**
 * ── PLACEHOLDER FOR THE APPROVAL STAGE ──
 * writ cannot hold a command for approval yet, so a command whose policy asks for approval is
 * refused (fail closed) rather than applied. The approval stage replaces exactly this call: it
 * holds the command as PENDING and answers 202 PENDING_APPROVAL instead.
 */
function refuseUntilApprovalStage(ctx: CommandContext, requirement: ApprovalRequirement, reasons: readonly string[]): never {
  throw new WritError(
    'FORBIDDEN',
    `${ctx.envelope.actor} may run ${ctx.action!.name} only after approval (${describeRequirement(requirement)}, by ${requirement.policy}); ` +
      'this writ does not hold commands for approval yet, so the command is refused',
    { details: { policies: reasons, requirement } },
  );
}
