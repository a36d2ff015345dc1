import type { OutboxConfig, SinkConfig } from '../config/config.js';
import { WritError } from '../core/errors.js';
import type { OutboxProgress, OutboxStore } from '../store/port.js';
import type { Sink } from './sink.js';
import { SinkRunner } from './sink-runner.js';
import { openSink } from './sinks/index.js';

export interface DispatcherDeps {
  readonly store: OutboxStore;
  readonly config: OutboxConfig;
  readonly now: () => number;
  /** Opens a sink (benchmarks wrap a real one); default: openSink. */
  readonly open?: (config: SinkConfig) => Sink;
  /** The outbox lease's term this dispatcher runs in, beside other processes: its flushes carry it. */
  readonly term?: number;
}

/** How long close() waits for deliveries in flight before the last flush. */
const CLOSE_WAIT_MS = 3000;

/**
 * The outbox dispatcher (DESIGN §7): one SinkRunner per configured sink, each with its own cursor.
 * Delivery is at least once: cursors, dead letters and the delivery log are persisted together, at
 * most every `flushMs`, through the store's writer, so after a crash the events after a persisted
 * cursor are sent again (with the same event id). Events are read on the store's read connection in
 * batches, woken by each durable commit (and every `pollMs`), so the apply path only pays a wake-up.
 */
export class Dispatcher {
  readonly runners: readonly SinkRunner[];
  private readonly sinks: readonly Sink[];
  private flushTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private wakeQueued = false;
  lastFlushError: string | null = null;

  private constructor(private readonly deps: DispatcherDeps, runners: SinkRunner[], sinks: Sink[]) {
    this.runners = runners;
    this.sinks = sinks;
  }

  /** Opens every sink (a webhook's secret is read now: a bad one stops start-up) and loads cursors. */
  static async open(deps: DispatcherDeps): Promise<Dispatcher> {
    const states = new Map((await deps.store.sinkStates()).map((s) => [s.sink, s]));
    const sinks: Sink[] = [];
    const runners: SinkRunner[] = [];
    try {
      for (const config of deps.config.sinks) {
        const sink = (deps.open ?? openSink)(config);
        sinks.push(sink);
        const state = states.get(config.name);
        const disabled = state?.disabledAt ? { at: state.disabledAt, reason: state.disabledReason ?? 'disabled' } : null;
        runners.push(new SinkRunner({ store: deps.store, sink, config, outbox: deps.config, now: deps.now, cursor: state?.cursor ?? 0, disabled }));
      }
    } catch (err) {
      for (const s of sinks) await s.close();
      throw err;
    }
    return new Dispatcher(deps, runners, sinks);
  }

  start(): void {
    this.flushTimer = setInterval(() => {
      if (!this.flushing) void this.flush();
    }, this.deps.config.flushMs);
    this.pollTimer = setInterval(() => this.wakeNow(), this.deps.config.pollMs);
    this.flushTimer.unref();
    this.pollTimer.unref();
    this.wakeNow();
  }

  /** New events are durable (called on every commit): one read per turn of the event loop at most. */
  wake(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => this.wakeNow());
  }

  private wakeNow(): void {
    this.wakeQueued = false;
    for (const r of this.runners) r.wake();
  }

  runner(name: string): SinkRunner {
    const r = this.runners.find((x) => x.name === name);
    if (!r) throw new WritError('NOT_FOUND', `no outbox sink named ${JSON.stringify(name)}; GET /v1/outbox/sinks lists them`);
    return r;
  }

  private select(sink: string | null): readonly SinkRunner[] {
    return sink === null ? this.runners : [this.runner(sink)];
  }

  /** Retry now: waiting events of the sink (or all) are due at once; a disabled sink is enabled. */
  retry(sink: string | null): string[] {
    const chosen = this.select(sink);
    for (const r of chosen) r.retryNow();
    return chosen.map((r) => r.name);
  }

  /** Marks dead letters for redrive and wakes their sinks; returns how many were marked. */
  async redrive(sink: string | null, eventId: string | null): Promise<number> {
    const chosen = this.select(sink);
    // Dead letters not yet flushed would be missed: persist them first.
    await this.flush();
    const n = await this.deps.store.requestRedrive(sink, eventId);
    for (const r of chosen) r.redrive();
    return n;
  }

  /** Persists what every runner has done until now, in one transaction, after any flush under way. */
  flush(): Promise<void> {
    const next: Promise<void> = (this.flushing ?? Promise.resolve()).then(() => this.flushOnce());
    this.flushing = next;
    void next.finally(() => {
      if (this.flushing === next) this.flushing = null;
    });
    return next;
  }

  private async flushOnce(): Promise<void> {
    const taken = this.runners.map((r) => [r, r.take()] as const).filter((t) => t[1] !== null);
    if (taken.length === 0) return;
    const progress: OutboxProgress = {
      cursors: taken.flatMap(([r, p]) => (p!.cursor === null ? [] : [{ sink: r.name, cursor: p!.cursor }])),
      dead: taken.flatMap(([, p]) => p!.dead),
      resolved: taken.flatMap(([r, p]) => p!.resolved.map((seq) => ({ sink: r.name, seq }))),
      deliveries: taken.flatMap(([, p]) => p!.deliveries),
      disabled: taken.flatMap(([r, p]) => (p!.disabled === undefined ? [] : [{ sink: r.name, reason: p!.disabled }])),
      keep: this.deps.config.deliveryLogKeep,
      at: new Date(this.deps.now()).toISOString(),
      ...(this.deps.term === undefined ? {} : { term: this.deps.term }),
    };
    try {
      await this.deps.store.saveOutboxProgress(progress);
      for (const [r, p] of taken) r.persistedAt(p!);
      this.lastFlushError = null;
    } catch (err) {
      for (const [r, p] of taken) r.giveBack(p!);
      this.lastFlushError = (err as Error).message;
    }
  }

  /**
   * Stops delivering and persists what was done since the last flush. `persist: false` drops it
   * instead: for a dispatcher whose lease was lost, whose successor may already have moved the
   * cursors (its events are sent again: at least once).
   */
  async close(options: { persist?: boolean } = {}): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.pollTimer);
    await Promise.all(this.runners.map((r) => r.close(CLOSE_WAIT_MS)));
    if (options.persist !== false) await this.flush();
    for (const s of this.sinks) await s.close();
  }
}
