import type { OutboxConfig } from '../config/config.js';
import type { OutboxStore } from '../store/port.js';
import type { Dispatcher } from './dispatcher.js';

/** The delivery state of one sink, as GET /v1/outbox/sinks, /healthz and `writ outbox status` show it. */
export interface SinkStatus {
  readonly name: string;
  readonly kind: string;
  /** Every event with seq <= cursor is delivered, dead-lettered or filtered out. */
  readonly cursor: number;
  /** Events written after the cursor (before the sink's filter is applied). */
  readonly lagEvents: number;
  /** Age of the oldest event after the cursor, in ms (0 when there is none). */
  readonly lagMs: number;
  readonly deadLetters: number;
  readonly disabled: { readonly at: string; readonly reason: string } | null;
  readonly lastError: { readonly at: string; readonly eventId: string; readonly message: string } | null;
  /** This process's counters and in-memory state; null when it does not run the dispatcher. */
  readonly live: Record<string, number> | null;
}

export interface OutboxStatus {
  readonly enabled: boolean;
  /** Whether this process runs the dispatcher. */
  readonly running: boolean;
  /** seq of the newest event in the outbox. */
  readonly head: number;
  readonly lastFlushError: string | null;
  readonly sinks: readonly SinkStatus[];
}

/** Reads each configured sink's state from the store, with the dispatcher's live state when it runs. */
export async function outboxStatus(store: OutboxStore, config: OutboxConfig, dispatcher: Dispatcher | null, now: number): Promise<OutboxStatus> {
  const head = await store.outboxHead();
  const states = new Map((await store.sinkStates()).map((s) => [s.sink, s]));
  const dead = new Map((await store.countDeadLetters()).map((d) => [d.sink, d.n]));
  const sinks: SinkStatus[] = [];
  for (const c of config.sinks) {
    const runner = dispatcher?.runners.find((r) => r.name === c.name);
    const state = states.get(c.name);
    const cursor = runner ? runner.cursor : (state?.cursor ?? 0);
    const oldest = cursor < head ? (await store.readStoredOutbox(cursor, 1))[0] : undefined;
    const disabled = runner ? runner.disabled : state?.disabledAt ? { at: state.disabledAt, reason: state.disabledReason ?? 'disabled' } : null;
    sinks.push({
      name: c.name,
      kind: c.kind,
      cursor,
      lagEvents: head - cursor,
      lagMs: oldest ? Math.max(0, now - Date.parse(oldest.ts)) : 0,
      deadLetters: dead.get(c.name) ?? 0,
      disabled,
      lastError: runner?.lastError ?? null,
      live: runner ? { ...runner.counts, ...runner.shape } : null,
    });
  }
  return { enabled: config.enabled, running: dispatcher !== null, head, lastFlushError: dispatcher?.lastFlushError ?? null, sinks };
}
