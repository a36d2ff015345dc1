import { existsSync, readFileSync } from 'node:fs';
import type { Config, SinkConfig } from '../../../config/config.js';
import type { Envelope } from '../../../core/envelope.js';
import { loadPrivateKey } from '../../../core/signature.js';
import type { WritMetrics } from '../../../metrics/metrics.js';
import { one } from '../../../metrics/scraped.js';
import { Dispatcher } from '../../../outbox/dispatcher.js';
import type { Pipeline } from '../../../pipeline/pipeline.js';
import type { Store } from '../../../store/port.js';
import { Effector } from './effector.js';

/** The outbox cursor the effector keeps, beside the configured sinks' (GET /v1/outbox/sinks does not list it). */
export const EFFECTOR_SINK = 'ops-effector';

export interface RunningEffector {
  readonly effector: Effector;
  /** New events are durable (called on every commit). */
  wake(): void;
  close(): Promise<void>;
}

export interface EffectorStart {
  readonly config: Config;
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly metrics: WritMetrics;
  /** Tenants that have an ops log (their running ops are looked for at start-up). */
  readonly tenants: readonly string[];
  readonly now: () => number;
}

/**
 * Starts the effector of this process: its key, its own outbox runner (cursor `ops-effector`,
 * filtered to SubmitOp and RollbackOp, at least once), the overdue scan and its metrics.
 */
export async function startEffector(s: EffectorStart): Promise<RunningEffector> {
  const cfg = s.config.ops.effector;
  if (!existsSync(cfg.keyFile)) {
    throw new Error(`ops.effector is enabled but its key ${cfg.keyFile} is missing; create and register it with \`writ keys new --actor effector --roles effector\` (then set ops.effector.keyFile and keyId to what it prints)`);
  }
  const signer = { key: loadPrivateKey(readFileSync(cfg.keyFile, 'utf8')), keyId: cfg.keyId };
  const submit = async (envelope: Envelope) => {
    const reply = await s.pipeline.submit({ body: Buffer.from(JSON.stringify(envelope)), receivedAt: s.now() });
    return { status: reply.httpStatus, body: JSON.parse(reply.body) as { code?: string; message?: string } };
  };
  const effector = new Effector({ store: s.store, config: s.config.ops, submit, signer, now: s.now });
  await effector.start(s.tenants);
  // maxAttempts here bounds deliveries that writ itself refused (shutting down); the op's own
  // attempts are bounded by ops.effector.maxAttempts and recorded.
  const sink: SinkConfig = { name: EFFECTOR_SINK, kind: 'ndjson', path: '', fsync: 'never', filter: { actions: ['SubmitOp', 'RollbackOp'] }, maxAttempts: 1000 };
  const dispatcher = await Dispatcher.open({ store: s.store, config: { ...s.config.outbox, sinks: [sink] }, now: s.now, open: () => effector });
  dispatcher.start();
  s.metrics.family({ name: 'writ_ops_overdue', help: 'Ops running past their deadline without a result (an attempt lost, e.g. writ stopped while the executor ran); the effector retries or fails them by ops.effector.overdue.', type: 'gauge', read: () => one(effector.overdue().length) });
  s.metrics.family({ name: 'writ_ops_running', help: 'Ops this process knows to be running (an attempt started, no result yet).', type: 'gauge', read: () => one(effector.watch.size) });
  s.metrics.family({ name: 'writ_ops_executions_total', help: 'Executor runs by this process (every attempt).', type: 'counter', read: () => one(effector.counts.executions) });
  return {
    effector,
    wake: () => dispatcher.wake(),
    async close() {
      await effector.close();
      await dispatcher.close();
    },
  };
}
