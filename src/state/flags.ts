import { WritError } from '../core/errors.js';
import type { EntityRow } from '../store/port.js';
import type { Directory } from './directory.js';

export type Flag = 'blocked' | 'readonly';

/** The flags that bear on one actor: its tenant's (`flag/tenant`) and its own (`flag/actor:<actor>`). */
export interface ActorFlags {
  readonly tenant: Flag | undefined;
  readonly actor: Flag | undefined;
}

/** The flag a `flag/<subject>` entity version sets (`none`, or a tombstone, sets none). */
export function flagIn(row: EntityRow | null): Flag | undefined {
  const flag = row && !row.deleted ? (row.doc as { flag: string }).flag : 'none';
  return flag === 'blocked' || flag === 'readonly' ? flag : undefined;
}

/** The strongest of an actor's flags: blocked beats readonly, then the tenant's beats the actor's. */
export function strongestFlag(flags: ActorFlags): { flag: Flag; subject: 'tenant' | 'actor' } | undefined {
  if (flags.tenant === 'blocked') return { flag: 'blocked', subject: 'tenant' };
  if (flags.actor === 'blocked') return { flag: 'blocked', subject: 'actor' };
  if (flags.tenant) return { flag: flags.tenant, subject: 'tenant' };
  if (flags.actor) return { flag: flags.actor, subject: 'actor' };
  return undefined;
}

/**
 * The refusal resolver flags (writ.SetFlag) impose on `actor` running `action` in `tenant`, if
 * any. A tenant-wide flag does not stop writ.SetFlag from an actor without a flag of its own, so
 * that an admin can lift it (policy still decides who may); a flag on the actor stops everything.
 * Checked by the limits stage (flags from the directory), and again when a command held for
 * approval is about to run (flags read through the batch being planned).
 */
export function flagsRefusal(flags: ActorFlags, tenant: string, actor: string, action: string): WritError | undefined {
  const flagged = strongestFlag(flags);
  const liftsTenantFlag = flagged?.subject === 'tenant' && action === 'writ.SetFlag' && flags.actor === undefined;
  if (!flagged || liftsTenantFlag) return undefined;
  const who = flagged.subject === 'tenant' ? `tenant ${tenant}` : `actor ${actor}`;
  return flagged.flag === 'blocked' ? new WritError('BLOCKED', `${who} is blocked`) : new WritError('READONLY', `${who} is read-only`);
}

/** flagsRefusal with the flags of committed state, as the directory caches them. */
export function flagRefusal(directory: Directory, tenant: string, actor: string, action: string): WritError | undefined {
  return flagsRefusal(directory.flagsOf(tenant, actor), tenant, actor, action);
}
