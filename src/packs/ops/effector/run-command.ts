import { spawn } from 'node:child_process';
import type { CommandExecutor } from '../../../config/ops.js';
import { StreamDigest } from './digest.js';
import type { Execution, OpRun } from './executor.js';
import { resolveValues } from './secrets.js';

/** Variables every executor process gets: the op, and the key to make it idempotent. */
export function opEnv(run: OpRun): Record<string, string> {
  return {
    WRIT_OP: run.op,
    WRIT_OP_KIND: run.kind,
    WRIT_TENANT: run.tenant,
    WRIT_ATTEMPT: String(run.attempt),
    WRIT_IDEMPOTENCY_KEY: run.idempotencyKey,
    ...(run.rollbackOf ? { WRIT_ROLLBACK_OF: run.rollbackOf } : {}),
  };
}

/**
 * A command with arguments, spawned without a shell (nothing in the op is ever parsed as shell
 * syntax); the op as JSON on its standard input. Its environment is PATH, the configured values
 * (secrets read from their files now) and WRIT_*: writ's own environment is not passed on.
 */
export function runCommand(spec: CommandExecutor, run: OpRun): Promise<Execution> {
  const t0 = performance.now();
  const out = new StreamDigest();
  const err = new StreamDigest();
  let env: Record<string, string>;
  try {
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...resolveValues(spec.env, 'env'), ...opEnv(run) };
  } catch (e) {
    return Promise.resolve({ ok: false, exitStatus: null, durationMs: 0, stdout: out.done(), stderr: err.done(), error: (e as Error).message });
  }
  return new Promise((resolve) => {
    let failure: string | null = null;
    let settled = false;
    const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd ?? undefined, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      failure = `timed out after ${spec.timeoutMs} ms (killed)`;
      child.kill('SIGKILL');
    }, spec.timeoutMs);
    const finish = (exitStatus: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ok = failure === null && exitStatus === 0;
      const error = failure ?? (exitStatus === 0 ? null : signal ? `ended by ${signal}` : `exited with status ${exitStatus}`);
      resolve({ ok, exitStatus, durationMs: Math.round(performance.now() - t0), stdout: out.done(), stderr: err.done(), error });
    };
    child.stdout.on('data', (c: Buffer) => out.update(c));
    child.stderr.on('data', (c: Buffer) => err.update(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure = `cannot run ${spec.command}: ${e.code ?? e.message}`;
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
    // A program that does not read its input must not fail the attempt with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(run));
  });
}
