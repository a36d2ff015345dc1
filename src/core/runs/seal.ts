import { sha256Hex } from '../hash.js';
import { canonicalJson } from './canonical-json.js';
import type { Contract, OutputEntry, RunDoc, StageOutcome } from './run-doc.js';

/**
 * What a run's seal root is the hash of (docs/runs.md, "The seal root"). Everything an outside
 * verifier needs to recompute it is in here; nothing else (no server state) goes into the root.
 */
export interface SealDocument {
  readonly v: 1;
  readonly kind: 'writ.run-seal';
  readonly tenant: string;
  readonly run: string;
  readonly domain: string;
  readonly contract: Contract;
  /** How the run ended before it was sealed. */
  readonly status: 'completed' | 'aborted';
  readonly startedAt: string;
  readonly startedBy: string;
  readonly stages: ReadonlyArray<{
    readonly id: string;
    readonly outcome: StageOutcome | null;
    readonly notes: string | null;
    readonly completedAt: string | null;
    readonly completedBy: string | null;
    readonly outputs: readonly OutputEntry[];
  }>;
  readonly abort: RunDoc['abort'];
  readonly sealedAt: string;
  readonly sealedBy: string;
}

/** The SealRun record's result: its resultHash (in the ledger leaf) commits to the root. */
export interface SealResult {
  readonly kind: 'writ.run-seal';
  readonly run: string;
  readonly domain: string;
  readonly root: string;
}

/** The seal document of `run` (completed or aborted) sealed at `sealedAt` by `sealedBy`. */
export function sealDocument(tenant: string, run: RunDoc, from: 'completed' | 'aborted', sealedAt: string, sealedBy: string): SealDocument {
  return {
    v: 1,
    kind: 'writ.run-seal',
    tenant,
    run: run.id,
    domain: run.domain,
    contract: run.contract,
    status: from,
    startedAt: run.startedAt,
    startedBy: run.startedBy,
    stages: run.stages.map((s) => ({ id: s.id, outcome: s.outcome, notes: s.notes, completedAt: s.completedAt, completedBy: s.completedBy, outputs: s.outputs })),
    abort: run.abort,
    sealedAt,
    sealedBy,
  };
}

/** The seal document of a sealed run, as it was hashed when SealRun recorded it. */
export function sealDocumentOfSealed(tenant: string, run: RunDoc): SealDocument {
  if (run.status !== 'sealed' || !run.seal) throw new TypeError(`run ${run.id} is ${run.status}, not sealed`);
  return sealDocument(tenant, run, run.seal.from, run.seal.at, run.seal.by);
}

/** The seal root: SHA-256 of the RFC 8785 (JCS) bytes of the seal document, lowercase hex. */
export function sealRoot(doc: SealDocument): string {
  return sha256Hex(canonicalJson(doc));
}

export function sealResult(doc: SealDocument, root: string): SealResult {
  return { kind: 'writ.run-seal', run: doc.run, domain: doc.domain, root };
}

/** SHA-256 of the JCS of the SealRun result: the resultHash its ledger record carries. */
export function sealResultHash(result: SealResult): string {
  return sha256Hex(canonicalJson(result));
}
