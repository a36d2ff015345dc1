import type { EffectContext } from '../../catalog/types.js';
import { HandlerRefusal } from '../../catalog/pack-api.js';
import { EMPTY_TREE } from './git/objects.js';
import type { KnowledgeRepo } from './git/repo.js';
import { CANON, CANON_ID, PERSPECTIVE, type CanonDoc, type PerspectiveDoc } from './state.js';

/** What the knowledge handlers read while planning: state through the context, objects from the tenant's repository. */
export interface KnowledgeDeps {
  /** The tenant's knowledge repository (created bare on first use). */
  readonly repo: (tenant: string) => Promise<KnowledgeRepo>;
}

export const EMPTY_CANON: CanonDoc = { head: null, tree: EMPTY_TREE, seq: 0 };

export async function canonOf(ctx: EffectContext): Promise<CanonDoc> {
  const row = await ctx.get(CANON, CANON_ID);
  return row && !row.deleted ? (row.doc as CanonDoc) : EMPTY_CANON;
}

/** A perspective not written yet starts at the canon of the moment. */
export async function perspectiveOf(ctx: EffectContext, actor: string): Promise<PerspectiveDoc> {
  const row = await ctx.get(PERSPECTIVE, actor);
  if (row && !row.deleted) return row.doc as PerspectiveDoc;
  const canon = await canonOf(ctx);
  return { actor, head: canon.head, tree: canon.tree, commits: 0, base: canon.head, baseTree: canon.tree, baseCommits: 0 };
}

export async function holdsRole(ctx: EffectContext, role: string): Promise<boolean> {
  return (await ctx.roles(ctx.envelope.actor)).includes(role);
}

/** A hash the command names must be the one state holds: a forged or stale hash changes nothing. */
export function sameHash(what: string, named: unknown, actual: string | null): void {
  if (named !== undefined && named !== actual) {
    throw new HandlerRefusal('VERSION_CONFLICT', `${what} is at ${actual ?? 'no commit yet'}, not ${String(named)}; read it again and resubmit`, { details: { current: actual, expected: named } });
  }
}

/** Drops undefined fields, so that documents (and their hashes) do not depend on how they were built. */
export function strip<T extends object>(doc: T): T {
  return JSON.parse(JSON.stringify(doc)) as T;
}

