import { WritError } from '../../core/errors.js';
import type { PolicyDecider } from '../../policy/live.js';
import type { Directory } from '../../state/directory.js';
import type { CommandContext } from '../context.js';

/**
 * Asks Cedar whether the actor, with the roles state gives it, may run the action on the target,
 * and puts what the deciding permit asks for (`ctx.approval`) on the context: null when the command
 * may run outright; the approval stage holds the command when it is not null.
 */
export function authorize(ctx: CommandContext, policy: PolicyDecider, directory: Directory): void {
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
}
