import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness.js';
import { knowledgeOf } from '../../src/packs/knowledge/pack.js';

/** A Markdown entry with the front matter the knowledge pack requires. */
export function entry(title: string, body = `About ${title}.`, extra = ''): string {
  return `---\ntype: note\ntitle: ${title}\nstatus: draft\n${extra}---\n# ${title}\n\n${body}\n`;
}

/** Runs the real git on the tenant's knowledge repository; null when git fails (a missing ref). */
export function git(h: Harness, ...args: string[]): string | null {
  try {
    return execFileSync('git', [`--git-dir=${join(h.writ.config.knowledge.git, `${h.tenant}.git`)}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Every ref of the tenant's knowledge repository, after the refs of every durable command moved. */
export async function refs(h: Harness): Promise<Record<string, string>> {
  await knowledgeOf(h.writ).refs.settled();
  const out = git(h, 'for-each-ref', '--format=%(refname) %(objectname)') ?? '';
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ')));
}
