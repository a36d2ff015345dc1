import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { syncPaths } from './sync.js';
import { inflateSync, deflateSync } from 'node:zlib';
import { durabilityConfig, GitCommandError, openRepository, parseCatFileBatch, runGit } from '../../../ledger/anchors/git-cli.js';
import { EMPTY_TREE, framed, objectId, parseCommit, parseTree, type GitObject, type ObjectType, type ParsedCommit, type TreeEntry } from './objects.js';

/** Parsed trees and commits kept in memory: objects never change, so a cached one is never stale. */
const CACHE_MAX = 20_000;

/**
 * One tenant's bare git repository of knowledge. Objects are written here as loose objects
 * (gitformat-loose: zlib of the framed bytes, at objects/<2 hex>/<38 hex>), synchronously, so that
 * they are on disk before the ledger transaction that names them, and `flush` (called once per
 * group commit, before the store commits) fsyncs them and their folders, so that they survive a
 * power loss as the ledger does; refs are moved only by
 * `moveRefs` (git update-ref), after that transaction is durable. Reads take loose objects
 * directly and fall back to `git cat-file` for packed ones (after a `git gc`).
 */
export class KnowledgeRepo {
  private readonly trees = new Map<string, TreeEntry[]>();
  private readonly commits = new Map<string, ParsedCommit>();
  private fsyncArgs: string[] | null = null;
  /** fsyncs of the object files written since the last flush, started as each is written (they overlap planning); a failed one names its file. */
  private syncing: Array<Promise<string | null>> = [];
  /** Folders whose entries changed since the last flush (synced by flush, once each). */
  private unsyncedDirs = new Set<string>();

  private constructor(readonly gitDir: string) {}

  static async open(path: string): Promise<KnowledgeRepo> {
    return new KnowledgeRepo(await openRepository(path));
  }

  private loosePath(oid: string): string {
    return join(this.gitDir, 'objects', oid.slice(0, 2), oid.slice(2));
  }

  /** Writes `obj` unless it exists; returns its id. Content-addressed, so a crash leaves at most an unreferenced object. */
  write(obj: GitObject): string {
    const oid = objectId(obj);
    const path = this.loosePath(oid);
    if (existsSync(path)) return oid;
    const dir = dirname(path);
    // A new fan-out folder is itself an entry of objects/, which must be synced too.
    if (mkdirSync(dir, { recursive: true }) !== undefined) this.unsyncedDirs.add(dirname(dir));
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, deflateSync(framed(obj)), { mode: 0o444 });
    renameSync(tmp, path);
    this.startSync(path);
    this.unsyncedDirs.add(dir);
    return oid;
  }

  private startSync(path: string): void {
    this.syncing.push(syncPaths([path]).then(() => null, () => path));
  }

  /**
   * Makes every object written so far durable: waits for the fsyncs of the new files (started as
   * they were written) and fsyncs the folders holding them (the renames), all at once. Objects
   * written while it runs wait for the next flush. A file or folder that failed is tried again by
   * the next flush.
   */
  async flush(): Promise<void> {
    if (this.syncing.length === 0 && this.unsyncedDirs.size === 0) return;
    const files = this.syncing;
    const dirs = this.unsyncedDirs;
    this.syncing = [];
    this.unsyncedDirs = new Set();
    const [failed, dirsSynced] = await Promise.all([Promise.all(files), syncPaths(dirs).then(() => null, (err: unknown) => err)]);
    const again = failed.filter((f): f is string => f !== null);
    for (const f of again) this.startSync(f);
    if (dirsSynced !== null) for (const d of dirs) this.unsyncedDirs.add(d);
    if (again.length > 0 || dirsSynced !== null) throw new Error(`fsync of ${again.length > 0 ? `${again.length} git object(s), e.g. ${again[0]}` : `the object folders (${String(dirsSynced)})`} failed`);
  }

  has(oid: string): boolean {
    return existsSync(this.loosePath(oid));
  }

  /** The object `oid` of `type`, or null when the repository does not hold it. */
  async read(oid: string, type: ObjectType): Promise<Buffer | null> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return null;
    const path = this.loosePath(oid);
    if (existsSync(path)) {
      const raw = inflateSync(readFileSync(path));
      const nul = raw.indexOf(0);
      return raw.toString('ascii', 0, raw.indexOf(0x20)) === type ? raw.subarray(nul + 1) : null;
    }
    const out = await runGit([`--git-dir=${this.gitDir}`, 'cat-file', '--batch'], { input: `${oid}\n` });
    const [content] = parseCatFileBatch(out);
    const header = out.toString('utf8', 0, out.indexOf(0x0a));
    return content && header.split(' ')[1] === type ? content : null;
  }

  async tree(oid: string): Promise<TreeEntry[]> {
    const hit = this.trees.get(oid);
    if (hit) return hit;
    if (oid === EMPTY_TREE) return [];
    const content = await this.read(oid, 'tree');
    if (!content) throw new Error(`tree ${oid} is missing from ${this.gitDir}`);
    return remember(this.trees, oid, parseTree(content));
  }

  async commit(oid: string): Promise<ParsedCommit | null> {
    const hit = this.commits.get(oid);
    if (hit) return hit;
    const content = await this.read(oid, 'commit');
    return content ? remember(this.commits, oid, parseCommit(content)) : null;
  }

  /**
   * Moves refs in one git transaction (update-ref --stdin: all or none), with git's fsync of
   * objects and refs. `oid` null deletes the ref.
   */
  async moveRefs(moves: ReadonlyArray<{ readonly ref: string; readonly oid: string | null }>): Promise<void> {
    if (moves.length === 0) return;
    this.fsyncArgs ??= await durabilityConfig();
    const input = moves.map((m) => (m.oid ? `update ${m.ref} ${m.oid}\n` : `delete ${m.ref}\n`)).join('');
    await runGit([...this.fsyncArgs, `--git-dir=${this.gitDir}`, 'update-ref', '--stdin'], { input: `start\n${input}prepare\ncommit\n` });
  }

  /** Every ref under `prefix` (e.g. `refs/`) with the object it names. */
  async refs(prefix = 'refs/'): Promise<Map<string, string>> {
    const out = await runGit([`--git-dir=${this.gitDir}`, 'for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    const refs = new Map<string, string>();
    for (const line of out.toString('utf8').split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) refs.set(line.slice(0, sp), line.slice(sp + 1));
    }
    return refs;
  }

  /** Whether commit `ancestor` is `descendant` or one of its ancestors. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    try {
      await runGit([`--git-dir=${this.gitDir}`, 'merge-base', '--is-ancestor', ancestor, descendant]);
      return true;
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode === 1) return false;
      if (err instanceof GitCommandError) return false;
      throw err;
    }
  }
}

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}
