import { SYSTEM_TYPES, type Directory } from '../../state/directory.js';
import type { CommandContext } from '../context.js';
import type { Overlay } from './overlay.js';

/**
 * Whether what authorized `ctx` may have changed since: the pipeline decided against the directory,
 * which learns of a batch's writes only once it has committed, while this command waited for its
 * own batch. A role, key or flag written by a batch not yet committed (or by an earlier command of
 * this one), or committed after the decision, must count for it all the same: a revocation takes
 * effect for every command written after it. Cheap (map lookups); the re-check itself is rare.
 */
export function authorityChanged(overlay: Overlay, directory: Directory, ctx: CommandContext): boolean {
  const { tenant, actor } = ctx.envelope;
  const inFlight = (type: string, id: string) => overlay.entity(tenant, type, id) !== undefined;
  const roleType = directory.roleType;
  if ((roleType !== undefined && inFlight(roleType, actor)) || inFlight(SYSTEM_TYPES.flag, 'tenant') || inFlight(SYSTEM_TYPES.flag, `actor:${actor}`)) return true;
  const keyId = ctx.auth.keyId;
  if (keyId !== null && (inFlight(SYSTEM_TYPES.key, keyId) || directory.key(tenant, keyId)?.revokedAt != null)) return true;
  if (directory.flagOf(tenant, actor) !== undefined) return true;
  const now = directory.rolesOf(tenant, actor);
  return now.length !== ctx.roles.length || now.some((r, i) => r !== ctx.roles[i]);
}
