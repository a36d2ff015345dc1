import { BLOB_MODE, EMPTY_TREE, encodeTree, TREE_MODE, type TreeEntry } from './objects.js';
import type { KnowledgeRepo } from './repo.js';

/** A changed path between two trees: the blob before and after (null: absent). */
export interface PathChange {
  readonly path: string;
  readonly before: string | null;
  readonly after: string | null;
}

/** Paths that differ between trees `a` and `b`, sorted; equal subtrees are skipped unread. */
export async function diffTrees(repo: KnowledgeRepo, a: string, b: string, prefix = ''): Promise<PathChange[]> {
  if (a === b) return [];
  const [left, right] = await Promise.all([repo.tree(a), repo.tree(b)]);
  const byName = new Map<string, { l?: TreeEntry; r?: TreeEntry }>();
  for (const e of left) byName.set(e.name, { l: e });
  for (const e of right) byName.set(e.name, { ...byName.get(e.name), r: e });
  const out: PathChange[] = [];
  for (const name of [...byName.keys()].sort()) {
    const { l, r } = byName.get(name)!;
    const path = prefix + name;
    if (l?.oid === r?.oid && l?.mode === r?.mode) continue;
    const lt = l?.mode === TREE_MODE ? l.oid : null;
    const rt = r?.mode === TREE_MODE ? r.oid : null;
    if (lt || rt) out.push(...(await diffTrees(repo, lt ?? EMPTY_TREE, rt ?? EMPTY_TREE, `${path}/`)));
    const lb = l && l.mode !== TREE_MODE ? l.oid : null;
    const rb = r && r.mode !== TREE_MODE ? r.oid : null;
    if (lb !== rb) out.push({ path, before: lb, after: rb });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** The blob at `path` in tree `root`, or null. */
export async function blobAt(repo: KnowledgeRepo, root: string, path: string): Promise<string | null> {
  const parts = path.split('/');
  let tree = root;
  for (let i = 0; i < parts.length; i++) {
    const e = (await repo.tree(tree)).find((x) => x.name === parts[i]);
    if (!e) return null;
    if (i === parts.length - 1) return e.mode === TREE_MODE ? null : e.oid;
    if (e.mode !== TREE_MODE) return null;
    tree = e.oid;
  }
  return null;
}

/**
 * Tree `root` with `changes` applied (path → blob id, or null to remove), written to the
 * repository; returns the new root's id. Only the trees along changed paths are read and written.
 */
export async function applyChanges(repo: KnowledgeRepo, root: string, changes: ReadonlyMap<string, string | null>): Promise<string> {
  const here = new Map<string, string | null>();
  const below = new Map<string, Map<string, string | null>>();
  for (const [path, oid] of changes) {
    const slash = path.indexOf('/');
    if (slash < 0) here.set(path, oid);
    else {
      const dir = path.slice(0, slash);
      if (!below.has(dir)) below.set(dir, new Map());
      below.get(dir)!.set(path.slice(slash + 1), oid);
    }
  }
  const entries = new Map((await repo.tree(root)).map((e) => [e.name, e] as const));
  for (const [name, oid] of here) {
    if (oid === null) entries.delete(name);
    else entries.set(name, { name, mode: BLOB_MODE, oid });
  }
  for (const [dir, sub] of below) {
    const existing = entries.get(dir);
    const subRoot = existing?.mode === TREE_MODE ? existing.oid : EMPTY_TREE;
    const next = await applyChanges(repo, subRoot, sub);
    // A directory left empty disappears, as git never stores an empty tree under a name.
    if (next === EMPTY_TREE) entries.delete(dir);
    else entries.set(dir, { name: dir, mode: TREE_MODE, oid: next });
  }
  return repo.write(encodeTree([...entries.values()]));
}

export interface MergeResult {
  /** The merged tree, or null when some path conflicts. */
  readonly tree: string | null;
  /** Paths both sides changed since the base, to different contents. */
  readonly conflicts: string[];
  /** Paths the incoming side changed since the base. */
  readonly changed: string[];
}

/**
 * A three-way merge at the granularity of entries: a path changed on one side only takes that
 * side's version; a path changed on both sides to the same content merges; to different contents
 * it is a conflict (entries are not merged line by line: the practitioner reviews whole entries).
 */
export async function mergeTrees(repo: KnowledgeRepo, base: string, ours: string, theirs: string): Promise<MergeResult> {
  const [mine, incoming] = await Promise.all([diffTrees(repo, base, ours), diffTrees(repo, base, theirs)]);
  const mineByPath = new Map(mine.map((c) => [c.path, c.after] as const));
  const conflicts: string[] = [];
  const take = new Map<string, string | null>();
  for (const c of incoming) {
    if (!mineByPath.has(c.path)) take.set(c.path, c.after);
    else if (mineByPath.get(c.path) !== c.after) conflicts.push(c.path);
  }
  const changed = incoming.map((c) => c.path);
  if (conflicts.length) return { tree: null, conflicts, changed };
  return { tree: take.size ? await applyChanges(repo, ours, take) : ours, conflicts, changed };
}
