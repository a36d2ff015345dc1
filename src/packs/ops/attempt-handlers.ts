import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { opOf, summary } from './handlers.js';
import { TARGET_TYPE, targetIdOf, type AttemptResult, type OpDoc } from './op-doc.js';

/**
 * The effector's own commands (policy lets no one else send them). Each names the attempt it is
 * about, and the handlers accept it only in sequence, so a duplicate delivery of the outbox event,
 * a second effector or a forged result cannot start an op twice or end an attempt that is not
 * running.
 */

function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

export function startOpAttempt(ctx: EffectContext): EffectPlan {
  const op = opOf(ctx);
  const p = ctx.payload as { attempt: number; timeoutMs: number };
  if (p.attempt !== op.attempts + 1) throw new WritError('INVALID_STATE', `op ${op.id} has had ${op.attempts} attempts; the next one is ${op.attempts + 1}, not ${p.attempt}`);
  let lost = op.lost;
  if (op.status === 'running') {
    // A running op is started again only once its deadline passed without a result: the attempt
    // is lost (writ stopped while the executor ran), and that gap stays in the op for good.
    if (op.deadline === null || Date.parse(ctx.now) <= Date.parse(op.deadline)) {
      throw new WritError('INVALID_STATE', `op ${op.id} is running attempt ${op.attempts} until ${op.deadline}; it is started again only after that deadline`);
    }
    lost = [...lost, { attempt: op.attempts, deadline: op.deadline, noticedAt: ctx.now }];
  } else if (op.status !== 'pending') {
    throw new WritError('INVALID_STATE', `op ${op.id} is ${op.status}; only a pending op is started`);
  }
  const doc: OpDoc = { ...op, status: 'running', attempts: p.attempt, deadline: addMs(ctx.now, p.timeoutMs), lost };
  return { writes: [{ ...ctx.target, doc }], result: { ...summary(doc), deadline: doc.deadline, lost: lost.length } };
}

export async function recordOpResult(ctx: EffectContext): Promise<EffectPlan> {
  const op = opOf(ctx);
  const p = ctx.payload as { attempt: number; outcome: 'succeeded' | 'failed'; final: boolean; exitStatus?: number | null; durationMs: number; stdout?: AttemptResult['stdout']; stderr?: AttemptResult['stderr']; error?: string };
  if (op.status !== 'running') throw new WritError('INVALID_STATE', `op ${op.id} is ${op.status}; a result is recorded only for a running op`);
  if (p.attempt !== op.attempts) throw new WritError('INVALID_STATE', `op ${op.id} is running attempt ${op.attempts}; a result for attempt ${p.attempt} is not taken`);
  if (p.outcome === 'succeeded' && !p.final) throw new WritError('INVALID_PAYLOAD', 'a succeeded attempt ends the op: send it with final: true');
  const result: AttemptResult = {
    attempt: p.attempt,
    outcome: p.outcome,
    exitStatus: p.exitStatus ?? null,
    durationMs: p.durationMs,
    stdout: p.stdout ?? null,
    stderr: p.stderr ?? null,
    error: p.error ?? null,
    at: ctx.now,
    by: ctx.envelope.actor,
  };
  const status = p.final ? p.outcome : 'pending';
  const doc: OpDoc = { ...op, status, deadline: null, results: [...op.results, result] };
  const writes: Array<{ type: string; id: string; doc: unknown }> = [{ ...ctx.target, doc }];
  if (status === 'succeeded') {
    // The resource's version counts the ops that changed it, for SubmitOp's targetVersion.
    const id = targetIdOf(op.workspace, op.resource);
    const prior = await ctx.get(TARGET_TYPE, id);
    writes.push({ type: TARGET_TYPE, id, doc: { workspace: op.workspace, resource: op.resource, lastOp: op.id, kind: op.kind, at: ctx.now, ops: ((prior?.doc as { ops?: number } | null)?.ops ?? 0) + 1 } });
  }
  return { writes, result: { ...summary(doc), outcome: p.outcome } };
}
