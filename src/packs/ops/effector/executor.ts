import type { OutputDigest } from '../op-doc.js';
import type { ExecutorSpec } from '../../../config/ops.js';
import { runCommand } from './run-command.js';
import { runHttp } from './run-http.js';
import { runMcp } from './run-mcp.js';

/** What an executor is given: the op, the attempt, and the key that makes repeating it harmless. */
export interface OpRun {
  readonly op: string;
  readonly tenant: string;
  readonly kind: string;
  readonly workspace: string;
  readonly resource: string;
  readonly parameters: Record<string, unknown>;
  readonly attempt: number;
  /**
   * The requestId of the command that made the op: the same on every attempt and every delivery,
   * so an idempotent executor does the work once however often it is called (at-least-once).
   */
  readonly idempotencyKey: string;
  /** Set when this run is a rollback: the op it undoes (the executor's inverse runs). */
  readonly rollbackOf: string | null;
}

/** How one attempt ended. Outputs are digested as they stream; their text is not kept. */
export interface Execution {
  readonly ok: boolean;
  /** A command's exit code, an HTTP status, 0/1 for an MCP tool result; null when it did not end by itself. */
  readonly exitStatus: number | null;
  readonly durationMs: number;
  readonly stdout: OutputDigest;
  readonly stderr: OutputDigest;
  /** Why it failed (no output text and no secret), or null. */
  readonly error: string | null;
}

/** Runs one attempt of `run` with `spec`; never rejects (a failure is an Execution with ok false). */
export async function execute(spec: ExecutorSpec, run: OpRun): Promise<Execution> {
  switch (spec.kind) {
    case 'command':
      return runCommand(spec, run);
    case 'http':
      return runHttp(spec, run);
    case 'mcp':
      return runMcp(spec, run);
  }
}
