import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpsAuditConfig } from '../../../config/ops.js';
import { messageOf } from '../../../ledger/anchors/anchor.js';
import { GitCommandError, runGit } from '../../../ledger/anchors/git-cli.js';
import { AUDIT_BRANCH } from './audit-repo.js';
import { namesOf } from './names.js';

/** Where one mirror stands: its last commit and the furthest record of each log it holds. */
export interface MirrorStanding {
  readonly workspace: string;
  readonly repository: string;
  readonly commit: string | null;
  readonly committedAt: string | null;
  readonly entries: number;
  /** The highest ledger index committed per log origin (from the commits' Writ-Entry trailers). */
  readonly reached: Readonly<Record<string, number>>;
  readonly error?: string;
}

async function standingOf(workspace: string, gitDir: string): Promise<MirrorStanding> {
  const git = (args: string[]) => runGit([`--git-dir=${gitDir}`, ...args]);
  const empty = { workspace, repository: gitDir, commit: null, committedAt: null, entries: 0, reached: {} };
  try {
    const head = (await git(['log', '-1', '--format=%H %cI', AUDIT_BRANCH])).toString('utf8').trim().split(' ');
    const entries = (await git(['ls-tree', '-r', '--name-only', '-z', AUDIT_BRANCH, '--', 'ops'])).toString('utf8').split('\0').filter(Boolean).length;
    const reached: Record<string, number> = {};
    for (const line of (await git(['log', '-64', '--format=%(trailers:key=Writ-Entry,valueonly)', AUDIT_BRANCH])).toString('utf8').split('\n')) {
      const m = /^(\S+) ([0-9]{1,15})$/.exec(line.trim());
      if (m) reached[m[1]] = Math.max(reached[m[1]] ?? -1, Number(m[2]));
    }
    return { ...empty, commit: head[0], committedAt: head[1], entries, reached };
  } catch (err) {
    // A repository created and never committed to has no branch yet.
    if (err instanceof GitCommandError && /unknown revision|ambiguous argument|does not have any commits|bad default revision/.test(err.message)) return empty;
    return { ...empty, error: messageOf(err) };
  }
}

/**
 * `writ ops status`'s view of the tenant's mirrors, read from the folder (no server needed): each
 * repository's last commit, its entries and how far in each log it got. Compare `reached` with the
 * ledger to see the lag; /metrics has writ_ops_audit_lag_seconds of the running writ.
 */
export async function mirrorStandings(config: OpsAuditConfig, tenant: string): Promise<{ enabled: boolean; folder: string; mirrors: MirrorStanding[]; error?: string }> {
  const base = { enabled: config.enabled, folder: config.folder };
  let names: string[];
  try {
    names = (await readdir(join(config.folder, tenant))).filter((n) => n.endsWith('.git')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...base, mirrors: [] };
    return { ...base, mirrors: [], error: `cannot read ${join(config.folder, tenant)}: ${messageOf(err)}` };
  }
  const mirrors: MirrorStanding[] = [];
  for (const n of names) {
    const path = join(config.folder, tenant, n);
    const named = namesOf(path);
    if (named) mirrors.push(await standingOf(named.workspace, path));
  }
  return { ...base, mirrors };
}
