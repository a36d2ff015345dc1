import type { EffectContext, EffectPlan, Handler } from '../../catalog/types.js';
import { HandlerRefusal } from '../../catalog/pack-api.js';
import { checkPath, entryBytes, frontMatter } from './entries.js';
import type { KnowledgeRepo } from './git/repo.js';
import { diffTrees } from './git/tree-ops.js';
import { perspectiveOf, strip, type KnowledgeDeps } from './plan-context.js';
import type { PerspectiveDoc } from './state.js';

/** How many commits made outside writ one Reconcile records at most. */
export const RECONCILE_MAX = 1000;

/** The first-parent chain from `tip` back to (not including) `stop`, oldest first; null if `stop` is not on it. */
export async function chainTo(repo: KnowledgeRepo, tip: string, stop: string | null): Promise<string[] | null> {
  const chain: string[] = [];
  let at: string | undefined = tip;
  while (at && at !== stop && chain.length <= RECONCILE_MAX) {
    const c = await repo.commit(at);
    if (!c) return null;
    chain.push(at);
    at = c.parents[0];
  }
  if ((at ?? null) !== stop) return null;
  return chain.reverse();
}

/**
 * Reconcile: records commits made on a perspective's ref outside writ (plain git), which writ
 * leaves in place at start-up when they extend the perspective's recorded head. The record's
 * document says `reconciled: true`, and its result lists the commits it backfills. Their entries
 * are checked as KipCommit checks its own.
 */
export function reconcileHandler(deps: KnowledgeDeps): Handler {
  return async (ctx: EffectContext): Promise<EffectPlan> => {
    const p = ctx.payload as { perspective: string; commit: string };
    const repo = await deps.repo(ctx.envelope.tenant);
    const persp = await perspectiveOf(ctx, p.perspective);
    const tip = await repo.commit(p.commit);
    if (!tip) throw new HandlerRefusal('NOT_FOUND', `the knowledge repository has no commit ${p.commit}`);
    const chain = await chainTo(repo, p.commit, persp.head);
    if (!chain || chain.length === 0 || chain.length > RECONCILE_MAX) {
      throw new HandlerRefusal('INVALID_STATE', `commit ${p.commit} does not extend perspective ${p.perspective} (at ${persp.head ?? 'no commit'}) by 1 to ${RECONCILE_MAX} commits; only commits made on top of the recorded head can be reconciled`);
    }
    for (const change of await diffTrees(repo, persp.tree, tip.tree)) {
      checkPath(change.path);
      if (change.after) {
        const content = (await repo.read(change.after, 'blob')) ?? Buffer.alloc(0);
        frontMatter(change.path, entryBytes({ path: change.path, base64: content.toString('base64') }).toString('utf8'));
      }
    }
    const doc: PerspectiveDoc = { ...persp, head: p.commit, tree: tip.tree, commits: persp.commits + chain.length, reconciled: true };
    return { writes: [{ ...ctx.target, doc: strip(doc) }], result: { perspective: p.perspective, commit: p.commit, reconciled: chain } };
  };
}
