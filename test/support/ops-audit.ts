import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './harness.js';
import { runWrit, type CliRun } from './cli.js';

/** Turns the audit mirror on in the home's config (with quick batches and outbox back-off) and restarts writ. */
export async function enableAudit(h: Harness, audit: Record<string, unknown> = {}): Promise<void> {
  const file = join(h.home, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  config.ops = { ...config.ops, audit: { enabled: true, batchIntervalMs: 20, ...audit } };
  config.outbox = { ...config.outbox, backoffBaseMs: 20, backoffCapMs: 200 };
  writeFileSync(file, JSON.stringify(config, null, 2));
  await h.restart();
}

/** The mirror of `workspace` in the harness's tenant, in the default folder. */
export function repoOf(h: Harness, workspace: string): string {
  return join(h.home, 'ops', 'audit', h.tenant, `${workspace}.git`);
}

export function git(gitDir: string, args: readonly string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The entry files on the mirror's branch (none before its first commit). */
export function entriesOf(repo: string): string[] {
  if (!existsSync(repo)) return [];
  try {
    return git(repo, ['ls-tree', '-r', '--name-only', 'refs/heads/main']).split('\n').filter(Boolean).sort();
  } catch {
    return [];
  }
}

/** Commits on the mirror's branch. */
export function commitsOf(repo: string): number {
  return Number(git(repo, ['rev-list', '--count', 'refs/heads/main']).trim());
}

/** One entry, parsed. */
export function entryOf(repo: string, path: string): any {
  return JSON.parse(git(repo, ['show', `refs/heads/main:${path}`]));
}

/** Waits until the mirror holds an entry for each of `actions` of op `op` (in any order). */
export async function waitForEntries(repo: string, op: string, actions: readonly string[], ms = 20_000): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const files = entriesOf(repo).filter((f) => f.startsWith(`ops/${op}/`));
    const have = files.map((f) => f.replace(/^.*\/\d+-(.*)\.json$/, '$1'));
    if (actions.every((a) => have.filter((x) => x === a).length >= actions.filter((y) => y === a).length)) return files;
    if (Date.now() > until) assert.fail(`the mirror ${repo} did not get ${actions.join(', ')} of op ${op} in ${ms} ms; it has ${JSON.stringify(files)}`);
    await sleep(25);
  }
}

/** `writ ops audit verify`, again until a signed checkpoint covers every entry (checkpoints come every second). */
export async function verifyAudit(h: Harness, repo: string, extra: readonly string[] = []): Promise<CliRun & { report: any }> {
  for (let i = 0; ; i++) {
    const run = await runWrit(['--home', h.home, 'ops', 'audit', 'verify', repo, ...extra]);
    let report: any = null;
    try {
      report = JSON.parse(run.stdout);
    } catch {
      assert.fail(`writ ops audit verify printed no report (exit ${run.code}): ${run.stderr}`);
    }
    if (report.uncovered.length === 0 || i >= 20) return { ...run, report };
    await sleep(250);
  }
}
