/**
 * The shapes of the runs pack (docs/runs.md): a contract, a run's state and a stage's outputs
 * manifest, with the bounds every copy of them obeys. The pack's handlers, the CLI and the offline
 * verifier all read them from here, so a manifest the server accepted is one the verifier reads.
 */

/** Most stages in a contract. */
export const MAX_STAGES = 64;
/** Most files in one stage's outputs manifest. */
export const MAX_STAGE_OUTPUTS = 256;
/** Most files in all the manifests of a run together. */
export const MAX_RUN_OUTPUTS = 1024;
/** Longest output name (a relative path), in characters. */
export const MAX_OUTPUT_NAME = 200;
/** Largest output file a manifest may name, in bytes (2^53 - 1, JSON's safe integers). */
export const MAX_OUTPUT_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * An output name: a relative path of components made of letters, digits, `.`, `_` and `-`, none
 * beginning with `.` (so no `.`, `..` or hidden files), joined by single `/`. Such a name cannot
 * leave the folder it is resolved in, on any platform.
 */
export const OUTPUT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;
/** A run id and a stage id. */
export const RUN_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** A domain: the run's scroll is `runs-<domain>`, at most 32 characters like every scroll. */
export const DOMAIN = /^[a-z][a-z0-9-]{0,26}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const RUNS_SCROLL = 'runs';

/** The log a run of `domain` is written to. */
export function scrollOfDomain(domain: string): string {
  return `${RUNS_SCROLL}-${domain}`;
}

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface ContractStage {
  readonly id: string;
  readonly skill: string;
  readonly workflow: string;
  readonly role: string;
  readonly objective: string;
}

/** What StartRun takes (its payload, checked against the schema in actions.yaml). */
export interface Contract {
  readonly id: string;
  readonly domain: string;
  readonly title: string;
  readonly severity: Severity;
  /** `strict` (the default): stages are completed in contract order; `any`: in any order. */
  readonly stageOrder?: 'strict' | 'any';
  readonly objectives?: readonly string[];
  readonly tags?: readonly string[];
  readonly stages: readonly ContractStage[];
}

export interface OutputEntry {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

export type StageOutcome = 'passed' | 'failed' | 'skipped';

export interface StageState {
  readonly id: string;
  readonly status: 'pending' | 'done';
  readonly outcome: StageOutcome | null;
  readonly notes: string | null;
  readonly completedAt: string | null;
  readonly completedBy: string | null;
  /** Sorted by name (UTF-16 code units). */
  readonly outputs: readonly OutputEntry[];
}

export type RunStatus = 'pending' | 'in_progress' | 'completed' | 'aborted' | 'sealed';

/** The `run/<id>` entity. */
export interface RunDoc {
  readonly id: string;
  readonly domain: string;
  readonly scroll: string;
  readonly contract: Contract;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly startedBy: string;
  readonly stages: readonly StageState[];
  readonly abort: { readonly reason: string; readonly at: string; readonly by: string } | null;
  readonly seal: { readonly root: string; readonly at: string; readonly by: string; readonly from: 'completed' | 'aborted' } | null;
}

/** Why `entries` cannot be one stage's manifest, or null: bad or duplicate names, sizes, hashes, too many. */
export function manifestProblem(entries: readonly OutputEntry[]): string | null {
  if (entries.length > MAX_STAGE_OUTPUTS) return `a stage lists at most ${MAX_STAGE_OUTPUTS} outputs, not ${entries.length}`;
  const seen = new Set<string>();
  for (const e of entries) {
    if (typeof e.name !== 'string' || e.name.length > MAX_OUTPUT_NAME || !OUTPUT_NAME.test(e.name)) {
      return `output name ${JSON.stringify(e.name)} is not a relative path of [A-Za-z0-9._-] components (none beginning with ".") of at most ${MAX_OUTPUT_NAME} characters`;
    }
    if (seen.has(e.name)) return `output ${JSON.stringify(e.name)} is listed twice`;
    seen.add(e.name);
    if (!Number.isSafeInteger(e.size) || e.size < 0) return `output ${JSON.stringify(e.name)} has size ${String(e.size)}; a size is a whole number of bytes`;
    if (typeof e.sha256 !== 'string' || !SHA256_HEX.test(e.sha256)) return `output ${JSON.stringify(e.name)} has no SHA-256 (64 lowercase hex digits)`;
  }
  // A name that is both a file and a folder of another name cannot exist on disk.
  for (const name of seen) {
    for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
      if (seen.has(name.slice(0, i))) return `output ${JSON.stringify(name.slice(0, i))} is a file, so ${JSON.stringify(name)} cannot be inside it`;
    }
  }
  return null;
}

/** The entries sorted by name, as a run keeps them (UTF-16 code-unit order, as RFC 8785 sorts). */
export function sortedManifest(entries: readonly OutputEntry[]): OutputEntry[] {
  return entries.map((e) => ({ name: e.name, size: e.size, sha256: e.sha256 })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The stage to do next: the first pending one (in any order, the first pending in contract order too). */
export function nextStage(run: RunDoc): StageState | null {
  if (run.status !== 'pending' && run.status !== 'in_progress') return null;
  return run.stages.find((s) => s.status === 'pending') ?? null;
}
