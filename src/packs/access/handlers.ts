import { WritError } from '../../core/errors.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

/** The roles an actor holds: the only roles policy sees. */
export interface ActorDoc {
  actor: string;
  roles: string[];
}

/**
 * Who holds `admin` in the tenant (entity `role-holders/admin`), kept by AssignRole and RevokeRole
 * so that a revocation can tell it would leave the tenant without an admin. Read through the apply
 * transaction, so two revocations planned in the same or overlapping batches see each other.
 */
export interface RoleHoldersDoc {
  role: string;
  actors: string[];
}

const ADMIN = 'admin';
const HOLDERS = 'role-holders';

function roles(ctx: EffectContext): string[] {
  return ctx.current && !ctx.current.deleted ? [...(ctx.current.doc as ActorDoc).roles] : [];
}

async function admins(ctx: EffectContext): Promise<string[]> {
  const row = await ctx.get(HOLDERS, ADMIN);
  return row && !row.deleted ? [...(row.doc as RoleHoldersDoc).actors] : [];
}

function holdersWrite(actors: string[]): EffectPlan['writes'][number] {
  const doc: RoleHoldersDoc = { role: ADMIN, actors: actors.sort() };
  return { type: HOLDERS, id: ADMIN, doc };
}

export async function assignRole(ctx: EffectContext): Promise<EffectPlan> {
  const { actor, role } = ctx.payload as { actor: string; role: string };
  const held = roles(ctx);
  if (held.includes(role)) throw new WritError('INVALID_STATE', `${actor} already holds role ${role}`);
  const doc: ActorDoc = { actor, roles: [...held, role].sort() };
  const writes: EffectPlan['writes'][number][] = [{ ...ctx.target, doc }];
  if (role === ADMIN) writes.push(holdersWrite([...(await admins(ctx)).filter((a) => a !== actor), actor]));
  return { writes, result: doc };
}

export async function revokeRole(ctx: EffectContext): Promise<EffectPlan> {
  const { actor, role } = ctx.payload as { actor: string; role: string };
  const held = roles(ctx);
  if (!held.includes(role)) throw new WritError('INVALID_STATE', `${actor} does not hold role ${role}`);
  const writes: EffectPlan['writes'][number][] = [{ ...ctx.target, doc: { actor, roles: held.filter((r) => r !== role) } satisfies ActorDoc }];
  if (role === ADMIN) {
    // Granting admin takes two other admins; stepping down would let one admin shrink the quorum
    // alone. Another admin revokes it (docs/security.md, "Access revocation and one-time codes").
    if (ctx.envelope.actor === actor) throw new WritError('FORBIDDEN', `${actor} may not revoke its own admin role; another admin of the tenant revokes it`);
    const left = (await admins(ctx)).filter((a) => a !== actor);
    if (left.length === 0) throw new WritError('INVALID_STATE', `${actor} is the last admin of tenant ${ctx.envelope.tenant}; grant admin to another actor first (AssignRole, held for the admin quorum)`);
    writes.push(holdersWrite(left));
  }
  return { writes, result: writes[0].doc };
}
