import { readFileSync } from 'node:fs';
import type { JobContext } from '../../../catalog/pack-module.js';
import type { OpsConfig } from '../../../config/ops.js';
import type { Envelope } from '../../../core/envelope.js';
import { loadPrivateKey } from '../../../core/signature.js';
import { one } from '../../../metrics/scraped.js';
import { Effector } from './effector.js';

/** The outbox cursor the effector keeps, beside the configured sinks' (GET /v1/outbox/sinks does not list it). */
export const EFFECTOR_SINK = 'ops-effector';

/** Resolves once writ closes (the job's signal aborts). */
function closing(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/**
 * The ops pack's effector job (docs/ops.md): its key, its own outbox consumer (cursor
 * `ops-effector`, SubmitOp and RollbackOp, at least once), the overdue scan and its metrics. Its
 * commands go through the whole pipeline signed with the effector's key, like any caller's.
 */
export async function runEffector(ctx: JobContext, config: OpsConfig): Promise<void> {
  const cfg = config.effector;
  const signer = { key: loadPrivateKey(readFileSync(cfg.keyFile, 'utf8')), keyId: cfg.keyId };
  const submit = async (envelope: Envelope) => {
    const answer = await ctx.submitSigned(Buffer.from(JSON.stringify(envelope)));
    return { status: answer.httpStatus, body: JSON.parse(answer.body) as { code?: string; message?: string } };
  };
  const effector = new Effector({ reads: ctx, config, submit, signer, now: ctx.now });
  await effector.start(ctx.tenants('ops'));
  const consumer = await ctx.consume(EFFECTOR_SINK, ['SubmitOp', 'RollbackOp'], effector);
  ctx.metric({ name: 'writ_ops_overdue', help: 'Ops running past their deadline without a result (an attempt lost, e.g. writ stopped while the executor ran); the effector retries or fails them by ops.effector.overdue.', type: 'gauge', read: () => one(effector.overdue().length) });
  ctx.metric({ name: 'writ_ops_running', help: 'Ops this process knows to be running (an attempt started, no result yet).', type: 'gauge', read: () => one(effector.watch.size) });
  ctx.metric({ name: 'writ_ops_executions_total', help: 'Executor runs by this process (every attempt).', type: 'counter', read: () => one(effector.counts.executions) });
  await closing(ctx.signal);
  await effector.close();
  await consumer.close();
}
