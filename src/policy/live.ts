import { createHash } from 'node:crypto';
import type { Decision } from './requirement.js';
import type { Policy, PolicyRequest, ReadRequest } from './cedar.js';
import type { PolicySource } from './sources.js';

/** What the pipeline, the approval re-check and read access ask of policy: one decision per call. */
export type PolicyDecider = Pick<Policy, 'authorize' | 'mayRead'>;

/** One policy file of a set: its name (PolicySource.source) and the SHA-256 of its text. */
export interface PolicyFile {
  readonly name: string;
  readonly sha256: string;
}

/** A loaded policy set and what identifies it in the ledger and to operators. */
export interface PolicySet {
  readonly policy: Policy;
  /** SHA-256 (hex) of the set's manifest (see digestOf). */
  readonly digest: string;
  /** The set's files, sorted by name. */
  readonly files: readonly PolicyFile[];
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The digest of a policy set, canonical whatever order the files were read in: the files sorted by
 * name (code-unit order), each as a `sha256sum` line `<sha256 of its text>  <name>\n`, and the
 * SHA-256 of those lines. An auditor recomputes it from copies of the files with `sha256sum`.
 */
export function digestOf(sources: readonly PolicySource[]): { digest: string; files: PolicyFile[] } {
  const files = sources.map((s) => ({ name: s.source, sha256: sha256(s.text) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { digest: sha256(files.map((f) => `${f.sha256}  ${f.name}\n`).join('')), files };
}

/**
 * The policy set in force, swapped whole by a reload (docs/policy.md, "Reloading"). Each decision
 * reads the set once and Cedar evaluates synchronously, so a command's authorization (its decision
 * and the approval requirement it is held under) comes wholly from one set, and its re-check at
 * execution wholly from the set in force then. Memoised decisions live in each Policy, so none
 * outlives the set that made it.
 */
export class LivePolicy implements PolicyDecider {
  private set: PolicySet;

  constructor(set: PolicySet) {
    this.set = set;
  }

  get current(): PolicySet {
    return this.set;
  }

  authorize(req: PolicyRequest): Decision {
    return this.set.policy.authorize(req);
  }

  mayRead(req: ReadRequest): boolean {
    return this.set.policy.mayRead(req);
  }

  swap(next: PolicySet): void {
    this.set = next;
  }
}
