import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

/** The roles an actor holds: the only roles policy sees. */
export interface ActorDoc {
  actor: string;
  roles: string[];
}

function roles(ctx: EffectContext): string[] {
  return ctx.current && !ctx.current.deleted ? [...(ctx.current.doc as ActorDoc).roles] : [];
}

export function assignRole(ctx: EffectContext): EffectPlan {
  const { actor, role } = ctx.payload as { actor: string; role: string };
  const held = roles(ctx);
  if (held.includes(role)) throw new WritError('INVALID_STATE', `${actor} already holds role ${role}`);
  const doc: ActorDoc = { actor, roles: [...held, role].sort() };
  return { writes: [{ ...ctx.target, doc }], result: doc };
}

export function revokeRole(ctx: EffectContext): EffectPlan {
  const { actor, role } = ctx.payload as { actor: string; role: string };
  const held = roles(ctx);
  if (!held.includes(role)) throw new WritError('INVALID_STATE', `${actor} does not hold role ${role}`);
  const doc: ActorDoc = { actor, roles: held.filter((r) => r !== role) };
  return { writes: [{ ...ctx.target, doc }], result: doc };
}
