import type { Identity } from '../../access/identity.js';
import type { ReadAccess } from '../../access/reads.js';
import { WritError } from '../../core/errors.js';
import type { EntityStore } from '../../store/port.js';
import { checkPath, splitFrontMatter } from './entries.js';
import { EMPTY_TREE } from './git/objects.js';
import type { KnowledgeRepo } from './git/repo.js';
import { blobAt } from './git/tree-ops.js';
import { canonRead, inboxRead, perspectiveRead, proposalsRead, type KnowledgeRead } from './read-access.js';
import type { KnowledgeRepos } from './repos.js';
import { CANON, CANON_ID, MESSAGE, PERSPECTIVE, PROPOSAL, type CanonDoc, type MessageDoc } from './state.js';

/**
 * The knowledge reads as plain functions (kip_get, kip_log, canon seq, inbox; search in
 * search.ts), for every transport: HTTP routes, the CLI and MCP tools call these with the caller's
 * authenticated identity, and each read asks policy (`read:knowledge`) before it looks at anything.
 * Heads come from committed state (the ledger), not from git refs, which may lag a commit by the
 * time it takes to move them.
 */
export interface KnowledgeReader {
  readonly store: Pick<EntityStore, 'getEntity' | 'listEntities'>;
  readonly repos: KnowledgeRepos;
  readonly access: Pick<ReadAccess, 'require'>;
}

/** `canon`, `perspective/<actor>` or `proposal/<id>`. */
export type RefName = string;

const REF = /^(canon|perspective\/[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}|proposal\/[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;
const OID = /^[0-9a-f]{40}$/;
export const LOG_MAX = 200;

function readOfRef(ref: RefName, reader: string | undefined): KnowledgeRead {
  if (!REF.test(ref)) throw new WritError('INVALID_PAYLOAD', `ref ${JSON.stringify(ref.slice(0, 80))} is not canon, perspective/<actor> or proposal/<id>`);
  if (ref === 'canon') return canonRead();
  if (ref.startsWith('perspective/')) return perspectiveRead(ref.slice(12), reader);
  return proposalsRead();
}

/** Checks the read, then finds the ref's head commit and tree in state. */
async function resolve(r: KnowledgeReader, identity: Identity | null, tenant: string, ref: RefName): Promise<{ repo: KnowledgeRepo; head: string | null; tree: string }> {
  const read = readOfRef(ref, identity?.actor);
  r.access.require(identity, read.kind, tenant, read.resource, read.facts);
  const [type, id] = ref === 'canon' ? [CANON, CANON_ID] : ref.startsWith('perspective/') ? [PERSPECTIVE, ref.slice(12)] : [PROPOSAL, ref.slice(9)];
  const row = await r.store.getEntity(tenant, type, id);
  const doc = row && !row.deleted ? (row.doc as { head: string | null; tree: string; status?: string }) : null;
  if (!doc && ref !== 'canon') throw new WritError('NOT_FOUND', `no ${ref} in tenant ${JSON.stringify(tenant)}`);
  return { repo: await r.repos.repo(tenant), head: doc?.head ?? null, tree: doc?.tree ?? EMPTY_TREE };
}

/** A commit named by `at` must be in the ref's history; another (of any ref) is not found, whatever it is. */
async function commitAt(repo: KnowledgeRepo, head: string | null, at: string | undefined): Promise<string | null> {
  if (at === undefined) return head;
  if (!OID.test(at)) throw new WritError('INVALID_PAYLOAD', 'at must be a full commit id (40 hex digits)');
  if (head === null || !(await repo.isAncestor(at, head))) throw new WritError('NOT_FOUND', `commit ${at} is not in the history of this ref`);
  return at;
}

export interface KipEntry {
  readonly ref: RefName;
  readonly commit: string | null;
  readonly path: string;
  readonly blob: string;
  readonly frontMatter: unknown;
  readonly content: string;
}

/** kip_get: the entry at `path` on `ref` (canon by default), at its head or at commit `at` of its history. */
export async function kipGet(r: KnowledgeReader, identity: Identity | null, tenant: string, q: { ref?: RefName; path: string; at?: string }): Promise<KipEntry> {
  const ref = q.ref ?? 'canon';
  const { repo, head } = await resolve(r, identity, tenant, ref);
  checkPath(q.path);
  const commit = await commitAt(repo, head, q.at);
  const tree = commit ? (await repo.commit(commit))?.tree ?? EMPTY_TREE : EMPTY_TREE;
  const blob = await blobAt(repo, tree, q.path);
  const content = blob ? await repo.read(blob, 'blob') : null;
  if (!blob || !content) throw new WritError('NOT_FOUND', `${ref} has no entry ${q.path}${q.at ? ` at ${q.at}` : ''}`);
  const text = content.toString('utf8');
  return { ref, commit, path: q.path, blob, frontMatter: splitFrontMatter(text)?.meta ?? null, content: text };
}

export interface KipLogEntry {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly time: string;
  readonly message: string;
}

/** kip_log: the ref's commits, newest first along first parents; with `path`, those that changed it. */
export async function kipLog(r: KnowledgeReader, identity: Identity | null, tenant: string, q: { ref?: RefName; path?: string; limit?: number }): Promise<{ ref: RefName; commits: KipLogEntry[] }> {
  const ref = q.ref ?? 'canon';
  const { repo, head } = await resolve(r, identity, tenant, ref);
  if (q.path !== undefined) checkPath(q.path);
  const limit = Math.min(Math.max(q.limit ?? 20, 1), LOG_MAX);
  const commits: KipLogEntry[] = [];
  // A path filter walks further than `limit` commits; bound the walk too.
  let at = head;
  for (let walked = 0; at && commits.length < limit && walked < limit * 50; walked++) {
    const c = await repo.commit(at);
    if (!c) break;
    let touched = true;
    if (q.path !== undefined) {
      const parent = c.parents[0] ? await repo.commit(c.parents[0]) : null;
      touched = (await blobAt(repo, c.tree, q.path)) !== (parent ? await blobAt(repo, parent.tree, q.path) : null);
    }
    if (touched) commits.push({ commit: at, parents: c.parents, author: c.author, time: new Date(c.timeMs).toISOString(), message: c.message.trimEnd() });
    at = c.parents[0] ?? null;
  }
  return { ref, commits };
}

/** The canon's sequence number: how many proposals have landed (monotonic), and its head. */
export async function canonSeq(r: KnowledgeReader, identity: Identity | null, tenant: string): Promise<{ seq: number; head: string | null }> {
  const read = canonRead();
  r.access.require(identity, read.kind, tenant, read.resource, read.facts);
  const row = await r.store.getEntity(tenant, CANON, CANON_ID);
  const doc = row && !row.deleted ? (row.doc as CanonDoc) : null;
  return { seq: doc?.seq ?? 0, head: doc?.head ?? null };
}

export const INBOX_MAX = 500;

/** An inbox (the caller's own by default; `practitioner` for the practitioners'): unread messages, or all with `all`. */
export async function inbox(r: KnowledgeReader, identity: Identity | null, tenant: string, q: { to?: string; all?: boolean } = {}): Promise<{ to: string; messages: MessageDoc[] }> {
  const to = q.to ?? identity?.actor;
  if (!to || !/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/.test(to)) throw new WritError('INVALID_PAYLOAD', 'name the inbox to read (to=<actor> or to=practitioner)');
  const read = inboxRead(to, identity?.actor);
  r.access.require(identity, read.kind, tenant, read.resource, read.facts);
  const messages: MessageDoc[] = [];
  const prefix = `${to}~`;
  let after: string | null = prefix;
  while (messages.length < INBOX_MAX) {
    const page = await r.store.listEntities(tenant, MESSAGE, after, 200);
    for (const row of page) {
      if (!row.id.startsWith(prefix)) return { to, messages };
      const doc = row.doc as MessageDoc;
      if (q.all || !doc.readAt) messages.push(doc);
    }
    if (page.length < 200) break;
    after = page[page.length - 1].id;
  }
  return { to, messages: messages.slice(0, INBOX_MAX) };
}
