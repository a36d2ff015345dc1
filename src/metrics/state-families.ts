import type { PushbackCode } from '../core/codes.js';
import type { LogStatus } from '../ledger/integrator.js';
import type { OutboxStatus, SinkStatus } from '../outbox/status.js';
import type { CheckpointRow } from '../store/port.js';
import type { WritMetrics } from './metrics.js';
import { one, type Sample } from './scraped.js';

/** What the scrape-time families read: each part of writ by the narrow view it needs. */
export interface WritState {
  /** The pipeline's counters (GET /healthz shows the same). */
  readonly counters: { readonly unauthenticated: number; readonly replayed: number; readonly repeatedRejections: number; readonly pushback: Readonly<Record<PushbackCode, number>> };
  readonly applier: { readonly pending: number };
  readonly idempotency: { readonly inFlight: number };
  readonly logs: () => readonly LogStatus[];
  readonly checkpoints: () => Promise<readonly CheckpointRow[]>;
  readonly outbox: () => Promise<OutboxStatus>;
  readonly now: () => number;
}

/**
 * The families read from writ's state at scrape time: pipeline counters, queue depths, the logs and
 * their checkpoints, and each outbox sink. Log and sink labels are bounded by the deployment (its
 * tenants × scrolls, its configured sinks), never by what a caller sends.
 */
export function registerStateFamilies(m: WritMetrics, s: WritState): void {
  const c = s.counters;
  m.family({ name: 'writ_unauthenticated_refusals_total', help: 'Requests refused before authentication (bad bodies, bad signatures, unknown keys): answered and counted, never recorded.', type: 'counter', read: () => one(c.unauthenticated) });
  m.family({
    name: 'writ_pushback_total',
    help: 'Refusals answered and not recorded, per code (RATE_LIMITED, IDEMPOTENCY_IN_PROGRESS, UNAVAILABLE: over a rate limit, a key in flight, writ busy or its store failing).',
    type: 'counter',
    labels: ['code'],
    read: () => Object.entries(c.pushback).map(([code, n]) => [{ code }, n] as const),
  });
  m.family({ name: 'writ_repeated_rejections_total', help: 'Freshness refusals of an envelope whose refusal was recorded once already: answered again, not recorded again.', type: 'counter', read: () => one(c.repeatedRejections) });
  m.family({ name: 'writ_replays_total', help: 'Commands answered with the stored answer of their requestId (idempotent retries).', type: 'counter', read: () => one(c.replayed) });
  m.family({ name: 'writ_apply_pending_commands', help: 'Commands queued for the applier or in a batch being committed.', type: 'gauge', read: () => one(s.applier.pending) });
  m.family({ name: 'writ_idempotency_in_flight', help: 'Idempotency keys claimed by commands being processed.', type: 'gauge', read: () => one(s.idempotency.inFlight) });

  const log = (l: LogStatus) => ({ tenant: l.tenant, scroll: l.scroll });
  m.family({ name: 'writ_log_records', help: 'Durable records in each log.', type: 'gauge', labels: ['tenant', 'scroll'], read: () => s.logs().map((l) => [log(l), l.size] as const) });
  m.family({ name: 'writ_log_checkpoint_records', help: "Records the log's latest signed checkpoint covers.", type: 'gauge', labels: ['tenant', 'scroll'], read: () => s.logs().map((l) => [log(l), l.checkpointSize] as const) });
  m.family({ name: 'writ_log_problem', help: 'Whether writ refuses to sign the log (1): its database disagrees with a signed or anchored checkpoint; see /healthz.', type: 'gauge', labels: ['tenant', 'scroll'], read: () => s.logs().map((l) => [log(l), l.problem ? 1 : 0] as const) });
  let checkpoints: readonly CheckpointRow[] = [];
  let outbox: OutboxStatus | null = null;
  m.beforeScrape(async () => {
    checkpoints = await s.checkpoints();
    outbox = await s.outbox();
  });
  m.family({
    name: 'writ_log_checkpoint_age_seconds',
    help: "Seconds since the log's latest checkpoint was signed (a log with records and no checkpoint yet has no sample).",
    type: 'gauge',
    labels: ['tenant', 'scroll'],
    read: () => checkpoints.map((cp) => [{ tenant: cp.tenant, scroll: cp.scroll }, Math.max(0, (s.now() - Date.parse(cp.createdAt)) / 1000)] as const),
  });

  m.family({ name: 'writ_outbox_head', help: 'Sequence number of the newest outbox event.', type: 'gauge', read: () => one(outbox?.head ?? 0) });
  const sinks = (read: (sink: SinkStatus) => number | undefined): Iterable<Sample> =>
    (outbox?.sinks ?? []).flatMap((k) => {
      const v = read(k);
      return v === undefined ? [] : [[{ sink: k.name }, v] as const];
    });
  m.family({ name: 'writ_outbox_lag_events', help: "Events written after the sink's cursor (before its filter).", type: 'gauge', labels: ['sink'], read: () => sinks((k) => k.lagEvents) });
  m.family({ name: 'writ_outbox_lag_seconds', help: 'Age of the oldest event after the sink\'s cursor (0 when there is none).', type: 'gauge', labels: ['sink'], read: () => sinks((k) => k.lagMs / 1000) });
  m.family({ name: 'writ_outbox_dead_letters', help: 'Events the sink gave up on and that wait for a redrive.', type: 'gauge', labels: ['sink'], read: () => sinks((k) => k.deadLetters) });
  m.family({ name: 'writ_outbox_sink_disabled', help: 'Whether the sink is disabled (1).', type: 'gauge', labels: ['sink'], read: () => sinks((k) => (k.disabled ? 1 : 0)) });
  // This process's delivery counters: present only where the dispatcher runs.
  m.family({ name: 'writ_outbox_delivered_total', help: 'Events this process delivered to the sink.', type: 'counter', labels: ['sink'], read: () => sinks((k) => k.live?.delivered) });
  m.family({ name: 'writ_outbox_failed_attempts_total', help: 'Delivery attempts to the sink that failed (each is retried with backoff until maxAttempts).', type: 'counter', labels: ['sink'], read: () => sinks((k) => k.live?.failedAttempts) });
  m.family({ name: 'writ_outbox_dead_lettered_total', help: 'Events this process moved to the sink\'s dead letters.', type: 'counter', labels: ['sink'], read: () => sinks((k) => k.live?.deadLettered) });
}
