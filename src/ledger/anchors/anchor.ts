import { WritError } from '../../core/errors.js';

/**
 * Anchors (DESIGN §6): every signed checkpoint is also written outside the database, so that
 * `writ verify` can prove the live log consistent with each of them and a rewritten, truncated or
 * rolled-back database is detected, and so that the integrator can refuse to sign while the
 * database is behind what was anchored.
 */

/** One signed checkpoint handed to the anchors by the integrator. */
export interface CheckpointToAnchor {
  readonly tenant: string;
  readonly scroll: string;
  readonly origin: string;
  readonly size: number;
  readonly rootBase64: string;
  /** The full signed note (C2SP signed-note over a C2SP tlog-checkpoint), kept byte for byte. */
  readonly note: string;
  /** ISO 8601 time it was signed. */
  readonly at: string;
}

/** A checkpoint as read back from an anchor. */
export interface AnchoredCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly note: string;
  /** Human-readable location, e.g. "git refs/writ/checkpoints/t/s @ 1a2b3c4d5e6f" or "ndjson /path:17". */
  readonly where: string;
}

/** What an anchor reports to health and status pages. */
export interface AnchorStatus {
  readonly kind: 'git' | 'ndjson';
  readonly target: string;
  /** Checkpoints this instance anchored since it was opened. */
  readonly anchored: number;
  readonly lastError: string | null;
  /** ISO time of the last successful publish. */
  readonly lastAt: string | null;
  /** Checkpoints (of `anchored`) covered by the last successful push, when pushing is configured. */
  readonly pushed?: number;
  readonly pushError?: string | null;
}

/** A place outside the database where checkpoints are recorded. */
export interface Anchor {
  readonly kind: 'git' | 'ndjson';
  /**
   * Records the checkpoints durably, in order. Checkpoints of one origin arrive in increasing size;
   * one the anchor already holds (same origin, size and root: a batch sent again after a partial
   * failure, or a catch-up after a restart) is skipped. The promise MUST NOT resolve before they
   * are durable; it rejects (with a message saying what to fix) when they could not be written, and
   * with LEDGER_INCONSISTENT when a checkpoint is not one it holds and not larger than the largest
   * it holds for its log (history is never rewritten).
   */
  publish(checkpoints: readonly CheckpointToAnchor[]): Promise<void>;
  /** Every anchored checkpoint, oldest first per origin. */
  readAll(): Promise<AnchoredCheckpoint[]>;
  /** The largest anchored checkpoint per origin. */
  latest(): Promise<Map<string, AnchoredCheckpoint>>;
  status(): AnchorStatus;
  close(): Promise<void>;
}

/** The first three lines of a C2SP tlog-checkpoint body: origin, tree size, root hash. */
export interface CheckpointHead {
  readonly origin: string;
  readonly size: number;
  readonly rootBase64: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads origin, size and root from a signed note (C2SP tlog-checkpoint); null when malformed. */
export function checkpointHead(note: string): CheckpointHead | null {
  const [origin, size, root] = note.split('\n', 3);
  // C2SP signed-note: the text ends with a newline and is followed by a blank line and signatures.
  if (!origin || !size || !root || !note.includes('\n\n') || !DECIMAL.test(size) || !BASE64.test(root)) return null;
  const n = Number(size);
  return Number.isSafeInteger(n) ? { origin, size: n, rootBase64: root } : null;
}

/**
 * Checks that a checkpoint is self-consistent before it is written: its note says the same origin,
 * size and root as its fields, and its time parses. A mismatch is a bug in the caller, so INTERNAL.
 */
export function checkPublishable(cp: CheckpointToAnchor): void {
  const head = checkpointHead(cp.note);
  const problem =
    head === null ? 'its note is not a signed checkpoint'
    : head.origin !== cp.origin || head.size !== cp.size || head.rootBase64 !== cp.rootBase64 ? 'its note names another origin, size or root than its fields'
    : Number.isNaN(Date.parse(cp.at)) ? `its time ${JSON.stringify(cp.at)} is not an ISO date`
    : null;
  if (problem) throw new WritError('INTERNAL', `cannot anchor checkpoint ${cp.origin} ${cp.size}: ${problem}`);
}

/** The refusal every anchor gives a checkpoint that would rewrite what it already holds. */
export function rollbackError(cp: CheckpointToAnchor, anchoredSize: number, where: string): WritError {
  const what = cp.size < anchoredSize ? `size ${cp.size} is smaller than the anchored size ${anchoredSize}, and not a checkpoint anchored before` : `size ${cp.size} was already anchored with another root`;
  return new WritError(
    'LEDGER_INCONSISTENT',
    `refusing to anchor ${cp.origin}: ${what} in ${where}; the database is behind or was rewritten — run \`writ verify\` and restore from a trusted copy`,
    { details: { origin: cp.origin, size: cp.size, anchoredSize } },
  );
}

/** Runs tasks one after another, so that writes to one anchor never interleave. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The message of anything thrown, for status pages. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
