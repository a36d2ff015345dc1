/**
 * The op entity of the ops pack (docs/ops.md, "The op entity"). Its states:
 *
 *   pending ──StartOpAttempt──▶ running ──RecordOpResult(final)──▶ succeeded | failed
 *      ▲                          │
 *      └──RecordOpResult(failed, not final)
 *
 * A SubmitOp held for approval has no op entity yet: it is "held" in its approval, and the op is
 * created pending when the approvers' quorum runs it. A running op whose deadline passes without a
 * result is overdue; the effector's next StartOpAttempt marks that attempt lost.
 */
import { OP_KINDS, type OpKind } from '../../config/ops.js';

export { OP_KINDS, type OpKind };
export type OpStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** SHA-256 (hex) and size in bytes of an executor's output; the text itself is never recorded. */
export interface OutputDigest {
  readonly sha256: string;
  readonly size: number;
}

export interface AttemptResult {
  readonly attempt: number;
  readonly outcome: 'succeeded' | 'failed';
  readonly exitStatus: number | null;
  readonly durationMs: number;
  readonly stdout: OutputDigest | null;
  readonly stderr: OutputDigest | null;
  readonly error: string | null;
  readonly at: string;
  readonly by: string;
}

export interface OpDoc {
  readonly id: string;
  readonly kind: OpKind;
  readonly workspace: string;
  readonly resource: string;
  readonly parameters: Record<string, unknown>;
  readonly reason: string | null;
  readonly status: OpStatus;
  /** The executor's idempotency key: the requestId of the SubmitOp (or RollbackOp) that made the op. */
  readonly requestId: string;
  readonly submittedBy: string;
  readonly submittedAt: string;
  /** Attempts started so far (StartOpAttempt), the running one included. */
  readonly attempts: number;
  /** When the running attempt must have a result by (RFC 3339), else null. */
  readonly deadline: string | null;
  /** Attempts whose deadline passed without a result (writ crashed or lost the executor). */
  readonly lost: ReadonlyArray<{ readonly attempt: number; readonly deadline: string; readonly noticedAt: string }>;
  readonly results: readonly AttemptResult[];
  /** The op-target's version this op expects (SubmitOp targetVersion), when it gave one. */
  readonly targetVersion: number | null;
  /** This op undoes that one (RollbackOp): the effector runs the inverse of its kind's executor. */
  readonly rollbackOf: string | null;
  /** The op that undoes this one, once a RollbackOp names it. */
  readonly rolledBackBy: string | null;
}

/** The resource an op acts on, as an entity whose version counts the ops that succeeded on it. */
export const TARGET_TYPE = 'op-target';

export function targetIdOf(workspace: string, resource: string): string {
  return `${workspace}.${resource}`;
}

/** Longest a result list may grow: attempts are bounded by the StartOpAttempt schema (100). */
export const MAX_ATTEMPTS = 100;
