import { existsSync } from 'node:fs';
import { WritError } from '../../../core/errors.js';
import { GitCommandError, openRepository, parseCatFileBatch, runGit } from '../../../ledger/anchors/git-cli.js';
import { AUDIT_BRANCH } from './audit-repo.js';

/** Files larger than this are not entries the mirror writes (an entry is a few KiB). */
export const MAX_ENTRY_BYTES = 1 << 20;

/** One file of a mirror's branch: its path and bytes (null when larger than MAX_ENTRY_BYTES). */
export interface MirrorFile {
  readonly path: string;
  readonly bytes: Buffer | null;
}

/**
 * Every file on the branch `main` of the mirror at `repo` (bare, or a clone with a work tree: its
 * committed tree, not the files checked out). Read-only: nothing is created or changed.
 */
export async function readMirror(repo: string): Promise<{ gitDir: string; commit: string; files: MirrorFile[]; committed: Array<{ log: string; index: number }> }> {
  if (!existsSync(repo)) throw new WritError('NOT_FOUND', `${repo} does not exist; name the mirror's repository (<ops.audit.folder>/<tenant>/<workspace>.git) or a clone of it`);
  const gitDir = await openRepository(repo);
  const git = (args: string[], input?: string) => runGit([`--git-dir=${gitDir}`, ...args], input === undefined ? {} : { input });
  let commit: string;
  try {
    commit = (await git(['rev-parse', '--verify', '--quiet', `${AUDIT_BRANCH}^{commit}`])).toString('utf8').trim();
  } catch (err) {
    if (!(err instanceof GitCommandError)) throw err;
    throw new WritError('NOT_FOUND', `${repo} has no branch main: it holds no audit entries yet`);
  }
  const listing = (await git(['ls-tree', '-r', '-z', '-l', commit])).toString('utf8').split('\0').filter(Boolean);
  const rows = listing.map((line) => {
    const tab = line.indexOf('\t');
    const [, , oid, size] = line.slice(0, tab).split(/\s+/);
    return { path: line.slice(tab + 1), oid, size: Number(size) };
  });
  const wanted = rows.filter((r) => r.size <= MAX_ENTRY_BYTES);
  const contents = wanted.length ? parseCatFileBatch(await git(['cat-file', '--batch'], wanted.map((r) => `${r.oid}\n`).join(''))) : [];
  const byOid = new Map(wanted.map((r, i) => [r.oid, contents[i]]));
  // What the branch's history says it committed (the Writ-Entry trailers): an entry deleted later is missing.
  const trailers = (await git(['log', '--format=%(trailers:key=Writ-Entry,valueonly)', commit])).toString('utf8');
  const committed = trailers
    .split('\n')
    .map((l) => /^(\S+) ([0-9]{1,15})$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ log: m[1], index: Number(m[2]) }));
  return { gitDir, commit, files: rows.map((r) => ({ path: r.path, bytes: byOid.get(r.oid) ?? null })), committed };
}
