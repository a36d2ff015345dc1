import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { durabilityConfig, GitCommandError, openRepository, runGit, type GitRunOptions } from '../../../ledger/anchors/git-cli.js';

/** The one branch the mirror writes. */
export const AUDIT_BRANCH = 'refs/heads/main';
// fast-import must commit to some ref; it is reset at the end of every stream, so it is never
// written, and the branch moves only through the compare-and-swap update-ref below (git-anchor.ts does the same).
const SCRATCH_REF = 'refs/writ/audit-import';

/** One file of the mirror: its path in the tree, its bytes, and the trailers its commit carries. */
export interface AuditFile {
  readonly path: string;
  readonly content: string;
  readonly requestId: string;
  /** `<log origin> <index>`. */
  readonly entry: string;
}

/**
 * One (tenant, workspace) mirror: a bare git repository whose branch `main` only ever grows, one
 * commit per batch, by one identity (`writ <authorEmail>`). A batch first asks the branch's tree
 * which entries it holds already and commits only the others, so a batch delivered again (at
 * least once, or after a crash between the commit and the outbox cursor) adds nothing.
 */
export class AuditRepo {
  private constructor(readonly gitDir: string, private readonly config: readonly string[], private readonly who: string) {}

  static async open(path: string, authorEmail: string): Promise<AuditRepo> {
    const config = await durabilityConfig();
    // Folders it creates are the owner's only: the mirror has no read policy but the file system's.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return new AuditRepo(await openRepository(path), config, `writ <${authorEmail}>`);
  }

  /** The branch's commit, or null before the first batch. */
  async tip(): Promise<string | null> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', `${AUDIT_BRANCH}^{commit}`])).toString('utf8').trim();
    } catch (err) {
      if (err instanceof GitCommandError && err.exitCode === 1) return null;
      throw err;
    }
  }

  /** Which of `paths` the tree of `commit` holds. */
  async present(commit: string | null, paths: readonly string[]): Promise<Set<string>> {
    if (!commit || paths.length === 0) return new Set();
    const out = (await this.git(['cat-file', '--batch-check'], { input: paths.map((p) => `${commit}:${p}\n`).join('') })).toString('utf8');
    const lines = out.split('\n');
    return new Set(paths.filter((_, i) => !lines[i]?.endsWith(' missing')));
  }

  /**
   * Commits the files of `batch` the branch does not hold yet, in one commit; returns how many it
   * wrote. The branch moves from the tip read here to the new commit or not at all.
   */
  async commit(batch: readonly AuditFile[], nowMs: number): Promise<number> {
    const tip = await this.tip();
    const held = await this.present(tip, batch.map((f) => f.path));
    const seen = new Set<string>();
    const files = batch.filter((f) => !held.has(f.path) && !seen.has(f.path) && seen.add(f.path));
    if (files.length === 0) return 0;
    const out = await this.git(['fast-import', '--quiet', '--done', '--cat-blob-fd=1'], { input: this.importStream(tip, files, nowMs) });
    const commit = out.toString('utf8').trim();
    await this.git(['update-ref', AUDIT_BRANCH, commit, tip ?? '0'.repeat(commit.length)]);
    return files.length;
  }

  private importStream(parent: string | null, files: readonly AuditFile[], nowMs: number): Buffer {
    const when = `${Math.floor(nowMs / 1000)} +0000`;
    const trailers = files.map((f) => `Writ-Request-Id: ${f.requestId}\nWrit-Entry: ${f.entry}`).join('\n');
    const message = `ops audit: ${files.length} entr${files.length === 1 ? 'y' : 'ies'}\n\n${trailers}\n`;
    const parts = [
      `reset ${SCRATCH_REF}\n${parent ? `from ${parent}\n` : ''}\n`,
      `commit ${SCRATCH_REF}\nmark :1\nauthor ${this.who} ${when}\ncommitter ${this.who} ${when}\n`,
      `data ${Buffer.byteLength(message)}\n${message}\n`,
      ...files.map((f) => `M 100644 inline ${f.path}\ndata ${Buffer.byteLength(f.content)}\n${f.content}\n`),
      `\nreset ${SCRATCH_REF}\n\nget-mark :1\ndone\n`,
    ];
    return Buffer.from(parts.join(''), 'utf8');
  }

  git(args: readonly string[], options?: GitRunOptions): Promise<Buffer> {
    return runGit([`--git-dir=${this.gitDir}`, ...this.config, ...args], options);
  }
}
