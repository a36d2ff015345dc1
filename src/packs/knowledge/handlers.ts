import type { HandlerModule } from '../../catalog/catalog.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { HandlerRefusal } from '../../catalog/pack-api.js';
import { checkPath, entryBytes, frontMatter } from './entries.js';
import { encodeCommit } from './git/objects.js';
import { applyChanges, blobAt, mergeTrees } from './git/tree-ops.js';
import { CANON, CANON_ID, PERSPECTIVE, PRACTITIONER, type CanonDoc, type PerspectiveDoc, type ProposalDoc } from './state.js';
import { canonOf, holdsRole, perspectiveOf, sameHash, strip, type KnowledgeDeps } from './plan-context.js';
import { messageHandlers } from './message-handlers.js';
import { reconcileHandler } from './reconcile.js';
import { killPoint } from './kill-points.js';

interface Write {
  path: string;
  content?: string;
  base64?: string;
}

async function kipCommit(ctx: EffectContext, deps: KnowledgeDeps): Promise<EffectPlan> {
  const p = ctx.payload as { perspective: string; message: string; writes?: Write[]; deletes?: string[]; parent?: string };
  if (p.perspective !== ctx.envelope.actor) throw new HandlerRefusal('FORBIDDEN', `${ctx.envelope.actor} may write only its own perspective, not ${p.perspective}'s`);
  const repo = await deps.repo(ctx.envelope.tenant);
  const persp = await perspectiveOf(ctx, p.perspective);
  sameHash(`perspective ${p.perspective}`, p.parent, persp.head);
  const changes = new Map<string, string | null>();
  for (const w of p.writes ?? []) {
    checkPath(w.path);
    if (changes.has(w.path)) throw new HandlerRefusal('INVALID_PAYLOAD', `entry ${w.path} is written twice in one commit`);
    const bytes = entryBytes(w);
    frontMatter(w.path, bytes.toString('utf8'));
    changes.set(w.path, repo.write({ type: 'blob', content: bytes }));
  }
  for (const path of p.deletes ?? []) {
    checkPath(path);
    if (changes.has(path)) throw new HandlerRefusal('INVALID_PAYLOAD', `entry ${path} is both written and deleted`);
    if ((await blobAt(repo, persp.tree, path)) === null) throw new HandlerRefusal('NOT_FOUND', `perspective ${p.perspective} has no entry ${path} to delete`);
    changes.set(path, null);
  }
  if (changes.size === 0) throw new HandlerRefusal('INVALID_PAYLOAD', 'a commit writes or deletes at least one entry');
  const tree = await applyChanges(repo, persp.tree, changes);
  if (tree === persp.tree) throw new HandlerRefusal('INVALID_STATE', 'this commit changes nothing: every entry already has that content');
  const head = repo.write(encodeCommit({ tree, parents: persp.head ? [persp.head] : [], author: ctx.envelope.actor, timeMs: Date.parse(ctx.now), message: p.message }));
  const doc: PerspectiveDoc = { ...persp, head, tree, commits: persp.commits + 1, reconciled: undefined };
  killPoint('objects');
  return { writes: [{ ...ctx.target, doc: strip(doc) }], result: { perspective: p.perspective, commit: head, tree, paths: [...changes.keys()].sort() } };
}

async function propose(ctx: EffectContext, deps: KnowledgeDeps): Promise<EffectPlan> {
  const p = ctx.payload as { proposalId: string; title: string; head?: string };
  if (ctx.current && !ctx.current.deleted) throw new HandlerRefusal('INVALID_STATE', `proposal ${p.proposalId} exists already; choose another id`);
  const repo = await deps.repo(ctx.envelope.tenant);
  const persp = await perspectiveOf(ctx, ctx.envelope.actor);
  sameHash(`perspective ${ctx.envelope.actor}`, p.head, persp.head);
  if (!persp.head) throw new HandlerRefusal('INVALID_STATE', `${ctx.envelope.actor} has no commits to propose; KipCommit first`);
  const canon = await canonOf(ctx);
  const merge = await mergeTrees(repo, persp.baseTree, canon.tree, persp.tree);
  if (merge.changed.length === 0) throw new HandlerRefusal('INVALID_STATE', `perspective ${ctx.envelope.actor} has no change against the canon it started from; nothing to propose`);
  const doc: ProposalDoc = {
    id: p.proposalId, actor: ctx.envelope.actor, title: p.title, head: persp.head, tree: persp.tree, headCommits: persp.commits,
    base: persp.base, baseTree: persp.baseTree, status: 'open', changedPaths: merge.changed, conflicts: merge.conflicts,
  };
  return { writes: [{ ...ctx.target, doc }], result: { proposalId: p.proposalId, head: persp.head, changedPaths: merge.changed, conflicts: merge.conflicts, canonSeq: canon.seq } };
}

function openProposal(ctx: EffectContext): ProposalDoc {
  const doc = ctx.current && !ctx.current.deleted ? (ctx.current.doc as ProposalDoc) : null;
  if (!doc) throw new HandlerRefusal('NOT_FOUND', `no proposal ${ctx.target.id}`);
  if (doc.status !== 'open') throw new HandlerRefusal('INVALID_STATE', `proposal ${doc.id} is ${doc.status}; only an open proposal can be ${ctx.envelope.action === 'Land' ? 'landed' : 'retracted'}`, { details: { status: doc.status } });
  return doc;
}

async function retractProposal(ctx: EffectContext): Promise<EffectPlan> {
  const doc = openProposal(ctx);
  if (doc.actor !== ctx.envelope.actor && !(await holdsRole(ctx, PRACTITIONER))) throw new HandlerRefusal('FORBIDDEN', `proposal ${doc.id} is ${doc.actor}'s; only its author or a practitioner retracts it`);
  const next: ProposalDoc = { ...doc, status: 'retracted' };
  return { writes: [{ ...ctx.target, doc: next }], result: { proposalId: doc.id, status: 'retracted' } };
}

async function land(ctx: EffectContext, deps: KnowledgeDeps): Promise<EffectPlan> {
  const doc = openProposal(ctx);
  sameHash(`proposal ${doc.id}`, ctx.payload.head, doc.head);
  const repo = await deps.repo(ctx.envelope.tenant);
  const canon = await canonOf(ctx);
  const merge = await mergeTrees(repo, doc.baseTree, canon.tree, doc.tree);
  if (!merge.tree) {
    throw new HandlerRefusal('INVALID_STATE', `proposal ${doc.id} no longer merges into canon: ${merge.conflicts.join(', ')} changed in canon since it was proposed; retract it, commit a resolution and propose again`, { details: { conflicts: merge.conflicts } });
  }
  const seq = canon.seq + 1;
  const parents = canon.head ? [canon.head, doc.head] : [doc.head];
  const head = repo.write(encodeCommit({ tree: merge.tree, parents, author: ctx.envelope.actor, timeMs: Date.parse(ctx.now), message: `Land proposal ${doc.id}: ${doc.title}\n\ncanon seq ${seq}, proposed by ${doc.actor}` }));
  killPoint('objects');
  const landed: ProposalDoc = { ...doc, status: 'landed', landedAs: head, seq };
  const nextCanon: CanonDoc = { head, tree: merge.tree, seq };
  const writes: Array<EffectPlan['writes'][number]> = [{ ...ctx.target, doc: landed }, { type: CANON, id: CANON_ID, doc: nextCanon }];
  // The proposer's perspective now shares this commit with canon: its next proposal starts from it.
  const persp = await perspectiveOf(ctx, doc.actor);
  if (doc.headCommits > persp.baseCommits) writes.push({ type: PERSPECTIVE, id: doc.actor, doc: strip({ ...persp, base: doc.head, baseTree: doc.tree, baseCommits: doc.headCommits }) });
  return { writes, result: { proposalId: doc.id, commit: head, tree: merge.tree, seq, changedPaths: merge.changed } };
}

/** The knowledge pack's handlers, bound to the deployment's repositories (docs/knowledge.md). */
export function knowledgeHandlers(deps: KnowledgeDeps): HandlerModule {
  return {
    kipCommit: (ctx) => kipCommit(ctx, deps),
    propose: (ctx) => propose(ctx, deps),
    retractProposal,
    land: (ctx) => land(ctx, deps),
    ...messageHandlers,
    reconcile: reconcileHandler(deps),
  };
}

