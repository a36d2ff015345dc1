import type { JobContext } from '../../../catalog/pack-module.js';
import type { OpsAuditConfig } from '../../../config/ops.js';
import { one } from '../../../metrics/scraped.js';
import { AUDIT_ACTIONS } from './locate.js';
import { AuditMirror } from './mirror.js';

/** The outbox cursor the audit mirror keeps (its own, beside the effector's). */
export const AUDIT_SINK = 'ops-audit';

function closing(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/**
 * The ops pack's audit-mirror job (docs/ops.md, "Audit mirror"): follows the outbox with its own
 * cursor and commits op events to one git repository per tenant and workspace. Beside other
 * processes the outbox lease makes it the only writer; it runs whether or not this process runs the
 * effector, and never holds an op up.
 */
export async function runAuditMirror(ctx: JobContext, config: OpsAuditConfig): Promise<void> {
  const mirror = new AuditMirror({ config, reads: ctx, leaf: (t, s, i) => ctx.leaf(t, s, i), now: ctx.now });
  const consumer = await ctx.consume(AUDIT_SINK, AUDIT_ACTIONS, mirror);
  ctx.metric({ name: 'writ_ops_audit_lag_seconds', help: 'Age of the oldest op event handed to the ops audit mirror and not committed yet (0 when it is caught up).', type: 'gauge', read: () => one(mirror.lagSeconds()) });
  ctx.metric({ name: 'writ_ops_audit_pending', help: 'Op events handed to the ops audit mirror and not committed yet (failing ones included).', type: 'gauge', read: () => one(mirror.unsettled.size) });
  ctx.metric({ name: 'writ_ops_audit_entries_total', help: 'Entries the ops audit mirror committed (entries found already there are not counted).', type: 'counter', read: () => one(mirror.counts.entries) });
  ctx.metric({ name: 'writ_ops_audit_failures_total', help: 'Batches the ops audit mirror could not commit (retried with back-off).', type: 'counter', read: () => one(mirror.counts.failures) });
  await closing(ctx.signal);
  await consumer.close();
  await mirror.close();
}
