import { WritError } from '../../core/errors.js';
import { checkpointHead, type AnchoredCheckpoint } from './anchor.js';
import { GitCommandError, parseCatFileBatch, type GitRunOptions } from './git-cli.js';

/** Where the checkpoint refs live: `refs/writ/checkpoints/<tenant>/<scroll>`. */
export const REF_PREFIX = 'refs/writ/checkpoints/';

/** Runs git in one repository. */
export type GitIn = (args: readonly string[], options?: GitRunOptions) => Promise<Buffer>;

/** The newest checkpoint of one ref. */
export interface RefTip {
  readonly ref: string;
  readonly commit: string;
  readonly rootBase64: string;
  readonly checkpoint: AnchoredCheckpoint;
}

/** The ref of a log. */
export function refFor(tenant: string, scroll: string): string {
  return REF_PREFIX + refComponent(tenant, 'tenant') + '/' + refComponent(scroll, 'scroll');
}

/**
 * A tenant or scroll name as a ref component. git forbids '..', a leading '.' and a trailing '.'
 * or '.lock' in one (git-check-ref-format(1)); such names get their dots percent-encoded, which
 * stays unambiguous because '%' never occurs in a name.
 */
function refComponent(name: string, what: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new WritError('INTERNAL', `cannot anchor: ${what} ${JSON.stringify(name)} has characters outside [A-Za-z0-9._-]`);
  return /\.\.|^\.|\.$|\.lock$/.test(name) ? name.replaceAll('.', '%2E') : name;
}

/**
 * Reads the checkpoint refs of a repository in a fixed, small number of git processes whatever
 * their count: for-each-ref, one rev-list for all histories, one cat-file --batch for all notes.
 * A git failure becomes UNAVAILABLE; a history that is not what GitAnchor writes, LEDGER_INCONSISTENT.
 */
export class GitHistory {
  constructor(private readonly git: GitIn, private readonly gitDir: string) {}

  /** Every checkpoint, oldest first per ref (refs in name order). */
  all(): Promise<AnchoredCheckpoint[]> {
    return this.reading(async () => {
      const refs = await this.refs();
      if (refs.length === 0) return [];
      const parentOf = new Map<string, string | null>();
      const revs = await this.git(['rev-list', '--parents', '--stdin'], { input: refs.map((r) => r.commit).join('\n') + '\n' });
      for (const line of revs.toString('utf8').split('\n').filter(Boolean)) {
        const [commit, ...parents] = line.split(' ');
        if (parents.length > 1) throw new WritError('LEDGER_INCONSISTENT', `git anchor ${this.gitDir}: commit ${commit} has ${parents.length} parents, but checkpoint history is linear; the repository was edited by hand`);
        parentOf.set(commit, parents[0] ?? null);
      }
      const walked = refs.flatMap(({ ref, commit }) => {
        const chain: { ref: string; commit: string }[] = [];
        for (let c: string | null = commit; c !== null; c = parentOf.get(c) ?? null) chain.push({ ref, commit: c });
        return chain.reverse();
      });
      const notes = await this.notesOf(walked.map((w) => w.commit));
      return walked.map((w, i) => this.checkpointAt(w.ref, w.commit, notes[i]).checkpoint);
    });
  }

  /** The newest checkpoint of every ref. */
  tips(): Promise<RefTip[]> {
    return this.reading(async () => {
      const refs = await this.refs();
      const notes = await this.notesOf(refs.map((r) => r.commit));
      return refs.map(({ ref, commit }, i) => ({ ref, commit, ...this.checkpointAt(ref, commit, notes[i]) }));
    });
  }

  /** The root of every checkpoint of one ref, by size (to recognise a checkpoint sent again). */
  rootsBySize(ref: string): Promise<Map<number, string>> {
    return this.reading(async () => {
      const commits = (await this.git(['rev-list', ref, '--'])).toString('utf8').split('\n').filter(Boolean);
      const notes = await this.notesOf(commits);
      return new Map(commits.map((commit, i) => {
        const { checkpoint, rootBase64 } = this.checkpointAt(ref, commit, notes[i]);
        return [checkpoint.size, rootBase64];
      }));
    });
  }

  private async refs(): Promise<{ ref: string; commit: string }[]> {
    const out = await this.git(['for-each-ref', '--format=%(objectname) %(refname)', REF_PREFIX]);
    return out.toString('utf8').split('\n').filter(Boolean).map((line) => ({ commit: line.slice(0, line.indexOf(' ')), ref: line.slice(line.indexOf(' ') + 1) }));
  }

  /** The `checkpoint` file of each commit. */
  private async notesOf(commits: readonly string[]): Promise<(string | null)[]> {
    if (commits.length === 0) return [];
    const out = await this.git(['cat-file', '--batch'], { input: commits.map((c) => `${c}:checkpoint\n`).join('') });
    return parseCatFileBatch(out).map((b) => (b === null ? null : b.toString('utf8')));
  }

  private checkpointAt(ref: string, commit: string, note: string | null | undefined): { checkpoint: AnchoredCheckpoint; rootBase64: string } {
    const where = `git ${ref} @ ${commit.slice(0, 12)}`;
    const head = note ? checkpointHead(note) : null;
    if (!note || !head) throw new WritError('LEDGER_INCONSISTENT', `${where} in ${this.gitDir}: the commit has no \`checkpoint\` file holding a signed checkpoint; the repository was edited by hand`);
    return { checkpoint: { origin: head.origin, size: head.size, note, where }, rootBase64: head.rootBase64 };
  }

  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof GitCommandError)) throw err;
      throw new WritError('UNAVAILABLE', `could not read the git anchor ${this.gitDir}: ${err.message}; check that the repository exists and is readable`, { cause: err });
    }
  }
}
