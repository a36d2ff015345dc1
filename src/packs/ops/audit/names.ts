import { join, relative, resolve, sep } from 'node:path';
import { PATTERNS } from '../../../core/envelope.js';
import { WritError } from '../../../core/errors.js';

// The patterns SubmitOp's schema gives a workspace and an op id (src/packs/ops/actions.yaml). They are
// checked again here: a path is built from them, and a pack's schema is not the mirror's guard.
const WORKSPACE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const OP_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ACTION = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/;

function refuse(what: string, value: string, pattern: RegExp): never {
  throw new WritError('INVALID_PAYLOAD', `the audit mirror cannot name ${what} ${JSON.stringify(value.slice(0, 80))}: it must match ${pattern.source}; nothing was written`);
}

/**
 * The bare repository of (tenant, workspace): `<folder>/<tenant>/<workspace>.git`. Names are checked
 * against their patterns first, and the result must still lie inside the folder, so no name reaches
 * another place on disk.
 */
export function mirrorPath(folder: string, tenant: string, workspace: string): string {
  if (!PATTERNS.tenant.test(tenant)) refuse('tenant', tenant, PATTERNS.tenant);
  if (!WORKSPACE.test(workspace)) refuse('workspace', workspace, WORKSPACE);
  const root = resolve(folder);
  const path = join(root, tenant, `${workspace}.git`);
  const rel = relative(root, path);
  if (rel.startsWith('..') || rel.split(sep).length !== 2) refuse('tenant', tenant, PATTERNS.tenant);
  return path;
}

/** The file of one entry in the mirror's tree: `ops/<op>/<ledger index>-<action>.json`. */
export function entryPath(opId: string, index: number, action: string): string {
  if (!OP_ID.test(opId)) refuse('op', opId, OP_ID);
  if (!ACTION.test(action)) refuse('action', action, ACTION);
  if (!Number.isSafeInteger(index) || index < 0) refuse('index', String(index), /^[0-9]+$/);
  return `ops/${opId}/${index}-${action}.json`;
}

/** (tenant, workspace) of a repository path the mirror names, or null when it is not one. */
export function namesOf(repo: string): { tenant: string; workspace: string } | null {
  const parts = resolve(repo).split(sep);
  const workspace = parts.at(-1)?.replace(/\.git$/, '') ?? '';
  const tenant = parts.at(-2) ?? '';
  return PATTERNS.tenant.test(tenant) && WORKSPACE.test(workspace) && parts.at(-1) === `${workspace}.git` ? { tenant, workspace } : null;
}
