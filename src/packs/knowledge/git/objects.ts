import { createHash } from 'node:crypto';

/**
 * Git's object format (git-scm.com/docs/gitformat-loose, "Object format"): an object is
 * `<type> <size>\0<content>` and its id is the SHA-1 of those bytes. writ computes ids itself so
 * that a commit's id is known during planning, before anything is written or any ref moves.
 */
export type ObjectType = 'blob' | 'tree' | 'commit';

export interface GitObject {
  readonly type: ObjectType;
  readonly content: Buffer;
}

/** The bytes git hashes and stores (zlib-deflated) for an object. */
export function framed(obj: GitObject): Buffer {
  return Buffer.concat([Buffer.from(`${obj.type} ${obj.content.length}\0`, 'ascii'), obj.content]);
}

export function objectId(obj: GitObject): string {
  return createHash('sha1').update(framed(obj)).digest('hex');
}

export const TREE_MODE = '40000';
export const BLOB_MODE = '100644';

export interface TreeEntry {
  readonly name: string;
  readonly mode: string;
  readonly oid: string;
}

/**
 * Git sorts tree entries by name bytes, a subtree compared as if its name ended in "/"
 * (fsck's "treeNotSorted" check); any other order is a different (and invalid) tree.
 */
function sortKey(e: TreeEntry): Buffer {
  return Buffer.from(e.mode === TREE_MODE ? `${e.name}/` : e.name, 'utf8');
}

export function encodeTree(entries: readonly TreeEntry[]): GitObject {
  const sorted = [...entries].sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  const parts: Buffer[] = [];
  for (const e of sorted) parts.push(Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.oid, 'hex'));
  return { type: 'tree', content: Buffer.concat(parts) };
}

export function parseTree(content: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const sp = content.indexOf(0x20, at);
    const nul = content.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed git tree');
    out.push({ mode: content.toString('ascii', at, sp), name: content.toString('utf8', sp + 1, nul), oid: content.toString('hex', nul + 1, nul + 21) });
    at = nul + 21;
  }
  return out;
}

export interface CommitFields {
  readonly tree: string;
  readonly parents: readonly string[];
  /** Author and committer: writ's actor, at the time of the command's ledger record. */
  readonly author: string;
  readonly timeMs: number;
  readonly message: string;
}

/** Author names keep to what a git ident allows (no <, >, newline). */
function ident(name: string, timeMs: number): string {
  const safe = name.replace(/[<>\n]/g, '_');
  return `${safe} <${safe}@writ> ${Math.floor(timeMs / 1000)} +0000`;
}

/** A commit whose bytes depend only on its fields: the same command replayed gives the same id. */
export function encodeCommit(c: CommitFields): GitObject {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${ident(c.author, c.timeMs)}`, `committer ${ident(c.author, c.timeMs)}`, '', c.message.endsWith('\n') ? c.message : `${c.message}\n`];
  return { type: 'commit', content: Buffer.from(lines.join('\n'), 'utf8') };
}

export interface ParsedCommit {
  readonly tree: string;
  readonly parents: string[];
  readonly author: string;
  readonly timeMs: number;
  readonly message: string;
}

export function parseCommit(content: Buffer): ParsedCommit {
  const text = content.toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  let tree = '';
  const parents: string[] = [];
  let author = '';
  let timeMs = 0;
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) {
      const m = /^author (.*?) <[^>]*> (\d+) /.exec(line);
      if (m) [author, timeMs] = [m[1], Number(m[2]) * 1000];
    }
  }
  return { tree, parents, author, timeMs, message: split < 0 ? '' : text.slice(split + 2) };
}

/** The id of the empty tree (a canon with no entries yet). */
export const EMPTY_TREE = objectId(encodeTree([]));
