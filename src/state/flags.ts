import { WritError } from '../core/errors.js';
import type { Directory } from './directory.js';

/**
 * The refusal a resolver flag (writ.SetFlag) imposes on `actor` running `action` in `tenant`, if
 * any. A tenant-wide flag does not stop writ.SetFlag from an actor without a flag of its own, so
 * that an admin can lift it (policy still decides who may); a flag on the actor stops everything.
 * Checked by the limits stage, and again when a command held for approval is about to run.
 */
export function flagRefusal(directory: Directory, tenant: string, actor: string, action: string): WritError | undefined {
  const flagged = directory.flagOf(tenant, actor);
  const liftsTenantFlag = flagged?.subject === 'tenant' && action === 'writ.SetFlag' && directory.actorFlagOf(tenant, actor) === undefined;
  if (!flagged || liftsTenantFlag) return undefined;
  const who = flagged.subject === 'tenant' ? `tenant ${tenant}` : `actor ${actor}`;
  return flagged.flag === 'blocked' ? new WritError('BLOCKED', `${who} is blocked`) : new WritError('READONLY', `${who} is read-only`);
}
