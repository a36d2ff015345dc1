import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { MAX_RUN_OUTPUTS, manifestProblem, scrollOfDomain, sortedManifest, type Contract, type OutputEntry, type RunDoc, type StageOutcome, type StageState } from '../../core/runs/run-doc.js';
import { sealDocument, sealResult, sealRoot } from '../../core/runs/seal.js';

/**
 * The runs pack (docs/runs.md). Every accepted command of a run is written to its domain's log
 * (`scroll` in the plan); a refusal changes nothing and is recorded in the runs log.
 */

/** The run a command names, which must exist. */
function runOf(ctx: EffectContext): RunDoc {
  if (!ctx.current || ctx.current.deleted) throw new WritError('NOT_FOUND', `there is no run ${JSON.stringify(ctx.target.id)}; start it with StartRun (writ run start)`);
  return ctx.current.doc as RunDoc;
}

/** A plan that writes `doc` as the run's next version, in the run's own log. */
function write(ctx: EffectContext, doc: RunDoc, result: unknown): EffectPlan {
  return { writes: [{ ...ctx.target, doc }], result, scroll: doc.scroll };
}

function summary(doc: RunDoc): Record<string, unknown> {
  return { run: doc.id, domain: doc.domain, status: doc.status, stagesDone: doc.stages.filter((s) => s.status === 'done').length, stagesTotal: doc.stages.length };
}

export function startRun(ctx: EffectContext): EffectPlan {
  const contract = ctx.payload as Contract;
  if (ctx.current) throw new WritError('INVALID_STATE', `run ${contract.id} exists already (it is ${(ctx.current.doc as RunDoc | null)?.status ?? 'deleted'}); give the contract another id`);
  const ids = new Set<string>();
  for (const s of contract.stages) {
    if (ids.has(s.id)) throw new WritError('INVALID_PAYLOAD', `the contract lists stage ${JSON.stringify(s.id)} twice; stage ids must be unique`);
    ids.add(s.id);
  }
  const doc: RunDoc = {
    id: contract.id,
    domain: contract.domain,
    scroll: scrollOfDomain(contract.domain),
    contract,
    status: 'pending',
    startedAt: ctx.now,
    startedBy: ctx.envelope.actor,
    stages: contract.stages.map((s) => ({ id: s.id, status: 'pending', outcome: null, notes: null, completedAt: null, completedBy: null, outputs: [] })),
    abort: null,
    seal: null,
  };
  return write(ctx, doc, summary(doc));
}

/** Refuses a command on a run that no longer takes stages or aborts. */
function requireOpen(run: RunDoc, what: string): void {
  if (run.status === 'pending' || run.status === 'in_progress') return;
  throw new WritError('INVALID_STATE', `run ${run.id} is ${run.status}; ${what} only a pending or in-progress run`);
}

export function completeStage(ctx: EffectContext): EffectPlan {
  const run = runOf(ctx);
  const p = ctx.payload as { stageId: string; outcome: StageOutcome; notes?: string; outputs: OutputEntry[] };
  requireOpen(run, 'stages can be completed on');
  const at = run.stages.findIndex((s) => s.id === p.stageId);
  if (at < 0) throw new WritError('NOT_FOUND', `run ${run.id} has no stage ${JSON.stringify(p.stageId)}; its stages are ${run.stages.map((s) => s.id).join(', ')}`);
  if (run.stages[at].status === 'done') throw new WritError('INVALID_STATE', `stage ${p.stageId} of run ${run.id} is already completed`);
  const first = run.stages.findIndex((s) => s.status === 'pending');
  if ((run.contract.stageOrder ?? 'strict') === 'strict' && at !== first) {
    throw new WritError('INVALID_STATE', `run ${run.id} completes its stages in contract order: the next stage is ${run.stages[first].id}, not ${p.stageId} (writ run next ${run.id})`);
  }
  const problem = manifestProblem(p.outputs);
  if (problem) throw new WritError('INVALID_PAYLOAD', problem);
  const total = run.stages.reduce((n, s) => n + s.outputs.length, 0) + p.outputs.length;
  if (total > MAX_RUN_OUTPUTS) throw new WritError('INVALID_PAYLOAD', `a run lists at most ${MAX_RUN_OUTPUTS} outputs in all its stages; this stage would bring run ${run.id} to ${total}`);
  const done: StageState = { id: p.stageId, status: 'done', outcome: p.outcome, notes: p.notes ?? null, completedAt: ctx.now, completedBy: ctx.envelope.actor, outputs: sortedManifest(p.outputs) };
  const stages = run.stages.map((s, i) => (i === at ? done : s));
  const doc: RunDoc = { ...run, stages, status: stages.every((s) => s.status === 'done') ? 'completed' : 'in_progress' };
  return write(ctx, doc, { ...summary(doc), stage: p.stageId, outputs: done.outputs.length });
}

export function abortRun(ctx: EffectContext): EffectPlan {
  const run = runOf(ctx);
  requireOpen(run, 'AbortRun ends');
  const doc: RunDoc = { ...run, status: 'aborted', abort: { reason: (ctx.payload as { reason: string }).reason, at: ctx.now, by: ctx.envelope.actor } };
  return write(ctx, doc, summary(doc));
}

export function sealRun(ctx: EffectContext): EffectPlan {
  const run = runOf(ctx);
  if (run.status !== 'completed' && run.status !== 'aborted') {
    const hint = run.status === 'sealed' ? 'it is sealed already' : `it is ${run.status}: complete its stages (writ run next ${run.id}) or abort it first`;
    throw new WritError('INVALID_STATE', `only a completed or aborted run can be sealed; run ${run.id}: ${hint}`);
  }
  const seal = sealDocument(ctx.envelope.tenant, run, run.status, ctx.now, ctx.envelope.actor);
  const root = sealRoot(seal);
  const doc: RunDoc = { ...run, status: 'sealed', seal: { root, at: ctx.now, by: ctx.envelope.actor, from: run.status } };
  return write(ctx, doc, sealResult(seal, root));
}
