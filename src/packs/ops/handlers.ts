import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { TARGET_TYPE, targetIdOf, type OpDoc, type OpKind } from './op-doc.js';

/**
 * SubmitOp and RollbackOp (docs/ops.md): they create an op, pending, for the effector to run once
 * the command is durable. Whether they run at once or wait for approvers is policy's alone; these
 * handlers run when the command is applied (after quorum, for a held one).
 */

/** The op the command names, which must exist. */
export function opOf(ctx: EffectContext, id = ctx.target.id): OpDoc {
  if (!ctx.current || ctx.current.deleted) throw new WritError('NOT_FOUND', `there is no op ${JSON.stringify(id)}; writ ops list shows the ops`);
  return ctx.current.doc as OpDoc;
}

export function summary(op: OpDoc): Record<string, unknown> {
  return { op: op.id, kind: op.kind, workspace: op.workspace, resource: op.resource, status: op.status, attempts: op.attempts, rollbackOf: op.rollbackOf };
}

function refuseExisting(ctx: EffectContext): void {
  if (ctx.current) throw new WritError('INVALID_STATE', `op ${ctx.target.id} exists already (it is ${(ctx.current.doc as OpDoc | null)?.status ?? 'deleted'}); give the op another id`);
}

function newOp(ctx: EffectContext, fields: Pick<OpDoc, 'kind' | 'workspace' | 'resource' | 'parameters' | 'targetVersion' | 'rollbackOf'>, reason: string | undefined): OpDoc {
  return {
    id: ctx.target.id,
    ...fields,
    reason: reason ?? null,
    status: 'pending',
    requestId: ctx.envelope.requestId,
    submittedBy: ctx.envelope.actor,
    submittedAt: ctx.now,
    attempts: 0,
    deadline: null,
    lost: [],
    results: [],
    rolledBackBy: null,
  };
}

export async function submitOp(ctx: EffectContext): Promise<EffectPlan> {
  refuseExisting(ctx);
  const p = ctx.payload as { kind: OpKind; workspace: string; resource: string; parameters: Record<string, unknown>; targetVersion?: number; reason?: string };
  if (p.targetVersion !== undefined) {
    // The seed's expected_state_version: an op decided against one state of the resource does not
    // run against another (an op that succeeded on it since, e.g. a retry of the same intent).
    const target = await ctx.get(TARGET_TYPE, targetIdOf(p.workspace, p.resource));
    const current = target?.version ?? 0;
    if (current !== p.targetVersion) {
      throw new WritError('VERSION_CONFLICT', `resource ${p.resource} of workspace ${p.workspace} is at version ${current}, not ${p.targetVersion}; read it (op-target ${targetIdOf(p.workspace, p.resource)}) and submit again`, { details: { current } });
    }
  }
  const op = newOp(ctx, { kind: p.kind, workspace: p.workspace, resource: p.resource, parameters: p.parameters, targetVersion: p.targetVersion ?? null, rollbackOf: null }, p.reason);
  return { writes: [{ ...ctx.target, doc: op }], result: summary(op) };
}

export async function rollbackOp(ctx: EffectContext): Promise<EffectPlan> {
  refuseExisting(ctx);
  const p = ctx.payload as { undoes: string; reason?: string };
  const row = await ctx.get('op', p.undoes);
  if (!row || row.deleted) throw new WritError('NOT_FOUND', `there is no op ${JSON.stringify(p.undoes)} to roll back; writ ops list shows the ops`);
  const undone = row.doc as OpDoc;
  if (undone.rollbackOf !== null) {
    throw new WritError('ROLLBACK_OF_ROLLBACK', `op ${undone.id} is itself the rollback of op ${undone.rollbackOf}; a rollback is not rolled back: submit the operation you want as a new op`);
  }
  if (undone.rolledBackBy !== null) throw new WritError('INVALID_STATE', `op ${undone.id} is already rolled back by op ${undone.rolledBackBy}`);
  if (undone.status !== 'succeeded') throw new WritError('INVALID_STATE', `op ${undone.id} is ${undone.status}; only a succeeded op is rolled back (a failed one changed nothing the executor vouches for)`);
  const op = newOp(ctx, { kind: undone.kind, workspace: undone.workspace, resource: undone.resource, parameters: undone.parameters, targetVersion: null, rollbackOf: undone.id }, p.reason);
  return {
    writes: [
      { ...ctx.target, doc: op },
      { type: 'op', id: undone.id, doc: { ...undone, rolledBackBy: op.id } },
    ],
    result: { ...summary(op), undoes: undone.id },
  };
}
