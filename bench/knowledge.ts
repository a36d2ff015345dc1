import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { search } from '../src/packs/knowledge/search.js';
import { SYSTEM_ACTOR } from '../src/pipeline/system.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { benchHome, emit, percentile, round, runConcurrent } from './support.js';
import { knowledgeOf } from '../src/packs/knowledge/pack.js';

const DIRS = 100;
const WORDS = Array.from({ length: 4000 }, (_, i) => `w${(i * 2654435761 % 1e9).toString(36)}`);
const word = (i: number) => WORDS[i % WORDS.length];

function entryText(i: number): string {
  const body = Array.from({ length: 60 }, (_, j) => word(i * 61 + j * 7)).join(' ');
  return `---\ntype: note\ntitle: Entry ${i} ${word(i)}\n---\n# Entry ${i}\n\n${body}\n`;
}

/** Raw git plumbing for one commit that changes one entry in a tree of `DIRS` folders of 100 entries: hash-object, two mktree, commit-tree, update-ref. */
function rawGitMsPerCommit(commits: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'writ-bench-git-'));
  try {
    const git = (args: string[], input?: string) => execFileSync('git', [`--git-dir=${dir}`, ...args], { input, encoding: 'utf8' }).trim();
    execFileSync('git', ['init', '--bare', '--quiet', dir]);
    const sub = Array.from({ length: 100 }, (_, i) => `100644 blob ${git(['hash-object', '-w', '--stdin'], entryText(i))}\te${i}.md`).join('\n') + '\n';
    let parent: string | null = null;
    const t = process.hrtime.bigint();
    for (let c = 0; c < commits; c++) {
      const blob = git(['hash-object', '-w', '--stdin'], entryText(100_000 + c));
      const subTree = git(['mktree'], sub.replace(/^100644 blob [0-9a-f]{40}\te0\.md$/m, `100644 blob ${blob}\te0.md`));
      const root = git(['mktree'], Array.from({ length: DIRS }, (_, d) => `040000 tree ${subTree}\td${d}`).join('\n') + '\n');
      const commit: string = git(['commit-tree', root, ...(parent ? ['-p', parent] : []), '-m', `c${c}`]);
      git(['update-ref', 'refs/heads/bench', commit]);
      parent = commit;
    }
    return Number(process.hrtime.bigint() - t) / 1e6 / commits;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `knowledge`: a canon of `entries` entries (100 folders) built and landed by writ, then KipCommit
 * per second (one entry each, 16 in flight, on one perspective that starts at that canon) beside
 * the raw git plumbing time per commit measured in the same run, and search p50/p99 over the canon.
 * `node dist/bench/knowledge.js [entries] [commits]` runs it alone.
 */
export async function benchKnowledge(entries: number, commits: number): Promise<void> {
  const b = await benchHome();
  try {
    const writ = await b.open();
    let n = 0;
    const system = async (action: string, payload: Record<string, unknown>) => {
      const reply = await writ.pipeline.system(b.tenant, action, payload, `bench-${++n}`);
      if (reply.httpStatus !== 200) throw new Error(`${action}: ${reply.body}`);
      return JSON.parse(reply.body);
    };
    const built = process.hrtime.bigint();
    for (let i = 0; i < entries; i += 100) {
      const writes = Array.from({ length: Math.min(100, entries - i) }, (_, j) => ({ path: `d${(i + j) % DIRS}/e${i + j}.md`, content: entryText(i + j) }));
      await system('KipCommit', { perspective: SYSTEM_ACTOR, message: `seed ${i}`, writes });
      if (i % 1000 === 0) process.stderr.write(`knowledge bench: ${i} entries committed (${round(Number(process.hrtime.bigint() - built) / 1e9, 1)} s)\n`);
    }
    const proposal = await system('Propose', { proposalId: 'seed', title: 'Seed' });
    await system('Land', { proposalId: 'seed', head: proposal.result.head });
    const buildSeconds = Number(process.hrtime.bigint() - built) / 1e9;
    await knowledgeOf(writ).refs.settled();
    await knowledgeOf(writ).search.settled();
    process.stderr.write(`knowledge bench: canon landed and indexed (${round(Number(process.hrtime.bigint() - built) / 1e9, 1)} s)\n`);

    const bodies = Array.from({ length: commits }, (_, c) => {
      const { envelope } = signEnvelope({ action: 'KipCommit', payload: { perspective: 'admin', message: `bench ${c}`, writes: [{ path: `d${c % DIRS}/e${c}.md`, content: entryText(200_000 + c) }] } }, b.admin, { tenant: b.tenant });
      return Buffer.from(JSON.stringify(envelope));
    });
    const run = await runConcurrent(bodies, 16, async (body) => {
      const reply = await writ.pipeline.submit({ body, receivedAt: Date.now() });
      if (reply.httpStatus !== 200) throw new Error(`KipCommit: ${reply.body}`);
    });
    const kipPerS = commits / run.seconds;
    const rawMs = rawGitMsPerCommit(Math.min(commits, 200));

    const identity = { tenant: b.tenant, actor: 'admin', method: 'signature' as const, keyId: b.admin.keyId };
    const latencies: number[] = [];
    let hits = 0;
    for (let q = 0; q < 1000; q++) {
      const t = process.hrtime.bigint();
      hits += search({ index: knowledgeOf(writ).search.index, access: writ.access }, identity, b.tenant, { q: `${word(q * 13)} ${word(q * 29 + 1)}`, ref: 'canon', limit: 20 }).hits.length;
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    latencies.sort((x, y) => x - y);
    emit({
      bench: 'knowledge',
      canon_entries: entries,
      canon_build_s: round(buildSeconds, 1),
      kipcommit_per_s: Math.round(kipPerS),
      kipcommit_p50_ms: round(percentile(run.latencies, 50)),
      kipcommit_p99_ms: round(percentile(run.latencies, 99)),
      raw_git_plumbing_ms_per_commit: round(rawMs),
      raw_git_commits_per_s: Math.round(1000 / rawMs),
      kipcommit_vs_raw_git: round(kipPerS / (1000 / rawMs), 2),
      search_p50_ms: round(percentile(latencies, 50), 3),
      search_p99_ms: round(percentile(latencies, 99), 3),
      search_hits_per_query: round(hits / 1000, 1),
    });
    await writ.close();
  } finally {
    b.dispose();
  }
}

if (process.argv[1]?.endsWith('knowledge.js')) await benchKnowledge(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 2000));
