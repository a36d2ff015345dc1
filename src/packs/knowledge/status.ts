import type { Identity } from '../../access/identity.js';
import { WritError } from '../../core/errors.js';
import { mergeTrees } from './git/tree-ops.js';
import { canonRead, perspectiveRead, proposalsRead } from './read-access.js';
import { canonSeq, type KnowledgeReader } from './reads.js';
import { CANON, CANON_ID, PERSPECTIVE, PROPOSAL, type CanonDoc, type PerspectiveDoc, type ProposalDoc } from './state.js';
import { EMPTY_TREE } from './git/objects.js';

const LIST_MAX = 1000;

/**
 * `writ knowledge status`: the canon (head, seq), open proposals, and the perspectives with their
 * heads when the caller may read every perspective (a practitioner, an admin, an auditor).
 */
export async function knowledgeStatus(r: KnowledgeReader, identity: Identity | null, tenant: string) {
  const { seq, head } = await canonSeq(r, identity, tenant);
  const props = proposalsRead();
  r.access.require(identity, props.kind, tenant, props.resource, props.facts);
  const proposals = (await r.store.listEntities(tenant, PROPOSAL, null, LIST_MAX)).map((row) => row.doc as ProposalDoc).filter((p) => p.status === 'open').map((p) => ({ id: p.id, actor: p.actor, title: p.title, head: p.head, changedPaths: p.changedPaths.length }));
  const all = perspectiveRead('*', undefined);
  let perspectives: Array<{ actor: string; head: string | null; commits: number; reconciled: boolean }> | null = null;
  try {
    r.access.require(identity, all.kind, tenant, all.resource, all.facts);
    perspectives = (await r.store.listEntities(tenant, PERSPECTIVE, null, LIST_MAX)).map((row) => row.doc as PerspectiveDoc).map((p) => ({ actor: p.actor, head: p.head, commits: p.commits, reconciled: p.reconciled === true }));
  } catch (err) {
    if (!(err instanceof WritError) || err.code !== 'FORBIDDEN') throw err;
  }
  return { canon: { seq, head }, proposals, perspectives };
}

/** `writ knowledge preview <id>`: what landing the proposal now would change, and what conflicts. */
export async function preview(r: KnowledgeReader, identity: Identity | null, tenant: string, id: string) {
  const props = proposalsRead();
  r.access.require(identity, props.kind, tenant, props.resource, props.facts);
  const row = await r.store.getEntity(tenant, PROPOSAL, id);
  if (!row || row.deleted) throw new WritError('NOT_FOUND', `no proposal ${JSON.stringify(id)} in tenant ${JSON.stringify(tenant)}`);
  const doc = row.doc as ProposalDoc;
  const canonRow = await r.store.getEntity(tenant, CANON, CANON_ID);
  const canon = (canonRow?.doc as CanonDoc | undefined) ?? { head: null, tree: EMPTY_TREE, seq: 0 };
  const read = canonRead();
  r.access.require(identity, read.kind, tenant, read.resource, read.facts);
  const merge = await mergeTrees(await r.repos.repo(tenant), doc.baseTree, canon.tree, doc.tree);
  return { proposalId: doc.id, status: doc.status, actor: doc.actor, title: doc.title, head: doc.head, changedPaths: merge.changed, conflicts: merge.conflicts, merges: merge.conflicts.length === 0, nextSeq: canon.seq + 1 };
}
