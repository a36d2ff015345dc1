import type { Identity } from '../../access/identity.js';
import type { ReadAccess } from '../../access/reads.js';
import { WritError } from '../../core/errors.js';
import type { KnowledgeIndex, SearchHit } from '../../store/sqlite/knowledge-index.js';
import { splitFrontMatter } from './entries.js';
import { EMPTY_TREE } from './git/objects.js';
import { diffTrees } from './git/tree-ops.js';
import { canonRead, perspectiveRead } from './read-access.js';
import type { KnowledgeRepos } from './repos.js';
import { CANON_REF, perspectiveRef } from './state.js';

export const QUERY_MAX = 256;
export const TERMS_MAX = 16;
export const SEARCH_MAX = 100;

/** The index's name of a git ref: `canon` or `perspective/<actor>`; null for refs it does not index. */
function indexName(ref: string): string | null {
  if (ref === CANON_REF) return 'canon';
  if (ref.startsWith('refs/perspectives/')) return `perspective/${decodeURIComponent(ref.slice(18))}`;
  return null;
}

/**
 * Keeps the full-text index at the refs: for each moved canon or perspective ref, the entries
 * that changed between the commit indexed and the new one are read from git and replaced.
 */
export class SearchSync {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly repos: KnowledgeRepos, readonly index: KnowledgeIndex) {}

  moved(tenant: string, moves: ReadonlyArray<{ ref: string; oid: string | null }>): Promise<void> {
    const step = this.chain.then(async () => {
      for (const m of moves) {
        const name = indexName(m.ref);
        if (name === 'canon') await this.followCanon(tenant, m.oid);
        else if (name) await this.followPerspective(tenant, name, m.oid);
      }
    });
    // One failed step (logged by the caller) does not stop the ones after it.
    this.chain = step.catch(() => undefined);
    return step;
  }

  async settled(): Promise<void> {
    await this.chain;
  }

  private async entriesOf(tenant: string, changes: ReadonlyArray<{ path: string; after: string | null }>) {
    const repo = await this.repos.repo(tenant);
    const out = [];
    for (const c of changes) {
      const blob = c.after ? await repo.read(c.after, 'blob') : null;
      const text = blob?.toString('utf8') ?? '';
      const split = splitFrontMatter(text);
      const title = String((split?.meta as { title?: unknown } | undefined)?.title ?? c.path);
      out.push({ path: c.path, entry: blob ? { path: c.path, title, body: split?.body ?? text } : null });
    }
    return out;
  }

  private async treeOf(tenant: string, commit: string | null): Promise<string> {
    return commit ? (await (await this.repos.repo(tenant)).commit(commit))?.tree ?? EMPTY_TREE : EMPTY_TREE;
  }

  /** The canon is indexed whole, incrementally: only the entries changed since the commit indexed. */
  private async followCanon(tenant: string, commit: string | null): Promise<void> {
    const from = this.index.indexedAt(tenant, 'canon');
    if (from === commit) return;
    if (commit === null) this.index.update(tenant, 'canon', null, []);
    else {
      const repo = await this.repos.repo(tenant);
      const changes = await diffTrees(repo, await this.treeOf(tenant, from), await this.treeOf(tenant, commit));
      this.index.update(tenant, 'canon', commit, await this.entriesOf(tenant, changes));
    }
    // A perspective is indexed as its difference from the canon, which has just changed.
    for (const [name, at] of this.index.refs(tenant)) if (name !== 'canon') await this.followPerspective(tenant, name, at.split(':')[0], true);
  }

  /**
   * A perspective is indexed as the entries where it differs from the canon (the rest are found
   * as canon hits): a perspective that starts at a canon of 10,000 entries costs nothing to
   * index, and each commit re-indexes only the actor's own work in progress.
   */
  private async followPerspective(tenant: string, name: string, commit: string | null, canonMoved = false): Promise<void> {
    const canon = this.index.indexedAt(tenant, 'canon');
    const key = commit === null ? null : `${commit}:${canon ?? ''}`;
    if (!canonMoved && this.index.indexedAt(tenant, name) === key) return;
    if (key === null) return this.index.update(tenant, name, null, []);
    const repo = await this.repos.repo(tenant);
    const diverging = (await diffTrees(repo, await this.treeOf(tenant, canon), await this.treeOf(tenant, commit))).filter((c) => c.after !== null);
    this.index.update(tenant, name, key, await this.entriesOf(tenant, diverging), true);
  }

  /** Brings the index to every ref of `tenants` (start-up; after `clear`, a full rebuild). */
  async catchUp(tenants: readonly string[]): Promise<number> {
    let refs = 0;
    for (const tenant of tenants) {
      const have = await (await this.repos.repo(tenant)).refs('refs/');
      const moves: Array<{ ref: string; oid: string | null }> = [...have].map(([ref, oid]) => ({ ref, oid }));
      const present = new Set(moves.map((m) => indexName(m.ref)));
      for (const name of this.index.refs(tenant).keys()) {
        if (!present.has(name)) moves.push({ ref: name === 'canon' ? CANON_REF : perspectiveRef(name.slice(12)), oid: null });
      }
      refs += moves.length;
      await this.moved(tenant, moves);
    }
    return refs;
  }
}

export interface SearchDeps {
  readonly index: KnowledgeIndex;
  readonly access: Pick<ReadAccess, 'require' | 'may'>;
}

/**
 * search: ranked full-text hits over the canon and the perspectives the caller may read (its own;
 * a practitioner's, an admin's or an auditor's: every one). `ref` narrows to one of them.
 */
export function search(d: SearchDeps, identity: Identity | null, tenant: string, q: { q: string; ref?: string; limit?: number }): { hits: SearchHit[] } {
  if (typeof q.q !== 'string' || q.q.length === 0 || q.q.length > QUERY_MAX) throw new WritError('INVALID_PAYLOAD', `q must be 1 to ${QUERY_MAX} characters of search words`);
  const terms = q.q.split(/[^\p{L}\p{N}_]+/u).filter(Boolean).slice(0, TERMS_MAX);
  if (terms.length === 0) throw new WritError('INVALID_PAYLOAD', 'q holds no word to search for (letters or digits)');
  const limit = Math.min(Math.max(q.limit ?? 20, 1), SEARCH_MAX);
  const canon = canonRead();
  d.access.require(identity, canon.kind, tenant, canon.resource, canon.facts);
  const own = identity ? `perspective/${identity.actor}` : null;
  let refs: string[] | null;
  if (q.ref !== undefined) {
    if (q.ref !== 'canon') {
      if (!q.ref.startsWith('perspective/')) throw new WritError('INVALID_PAYLOAD', 'ref must be canon or perspective/<actor>');
      const read = perspectiveRead(q.ref.slice(12), identity?.actor);
      d.access.require(identity, read.kind, tenant, read.resource, read.facts);
    }
    refs = [q.ref];
  } else {
    const all = perspectiveRead('*', undefined);
    refs = d.access.may(identity, all.kind, tenant, all.resource, all.facts) ? null : ['canon', ...(own ? [own] : [])];
  }
  return { hits: d.index.search(tenant, terms, refs, limit) };
}
