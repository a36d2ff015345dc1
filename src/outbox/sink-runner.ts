import type { OutboxConfig, SinkConfig } from '../config/config.js';
import type { DeadLetter, DeliveryRow, StoredOutboxRow, OutboxStore } from '../store/port.js';
import { backoffMs } from './backoff.js';
import { Deque } from './deque.js';
import { passes } from './filter.js';
import { eventJson, type Attempt, type Sink } from './sink.js';

/** Events held in memory past the cursor, per sink (read in batches of READ_BATCH). */
const WINDOW = 4096;
const READ_BATCH = 512;

interface Item {
  readonly row: StoredOutboxRow;
  /** The event's bytes, built once (only when it passes the filter) and sent on every attempt. */
  json: string;
  readonly key: string;
  /** A dead letter asked back into delivery: outside the cursor and the per-entity order. */
  readonly redrive: boolean;
  failures: number;
  nextAt: number;
  state: 'queued' | 'ready' | 'delayed' | 'inflight' | 'done';
}

/** What a runner hands to the dispatcher's flush; given back unchanged when the write fails. */
export interface RunnerProgress {
  readonly cursor: number | null;
  readonly dead: DeadLetter[];
  readonly resolved: number[];
  readonly deliveries: DeliveryRow[];
  readonly disabled: string | null | undefined;
}

export interface RunnerDeps {
  readonly store: OutboxStore;
  readonly sink: Sink;
  readonly config: SinkConfig;
  readonly outbox: OutboxConfig;
  readonly now: () => number;
  /** Persisted state: the cursor and a disable from an earlier run. */
  readonly cursor: number;
  readonly disabled: { readonly at: string; readonly reason: string } | null;
}

/**
 * Ordering key of an event: its entity (tenant and target `type/id`); an event without a target is
 * ordered within its log. One key's events go one at a time, in seq order.
 */
function keyOf(row: StoredOutboxRow): string {
  return row.target === null ? `${row.tenant}\n@${row.scroll}` : `${row.tenant}\n${row.target}`;
}

/**
 * Delivery to one sink. Events after the cursor are read in commit (seq) order into a window; each
 * entity's events wait in a queue of their own and only its head may be in flight, so a later event
 * of an entity is never delivered before an earlier one, while different entities go in parallel up
 * to the sink's concurrency. A failed attempt waits for its backoff, blocking only its entity; after
 * maxAttempts the event is dead-lettered and the entity's later events continue (one bad event must
 * not stall an entity forever; the dead letter records the gap and redrive fills it, out of order).
 * The cursor moves past an event once it and every earlier one is delivered, dead-lettered or
 * filtered out.
 */
export class SinkRunner {
  readonly name: string;
  cursor: number;
  private persisted: number;
  private readUpTo: number;
  private readonly window = new Deque<Item>();
  private readonly queues = new Map<string, Item[]>();
  private readonly ready = new Deque<Item>();
  private readonly delayed = new Set<Item>();
  private readonly redriving = new Set<number>();
  private inflight = 0;
  private reading = false;
  private again = false;
  /** The last read stopped because the window was full: completions make room and read again. */
  private full = false;
  private redriveWanted = true;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: Array<() => void> = [];
  disabled: { at: string; reason: string } | null;
  lastError: { at: string; eventId: string; message: string } | null = null;
  readonly counts = { delivered: 0, failedAttempts: 0, deadLettered: 0, redriven: 0 };
  private progress: { -readonly [K in keyof RunnerProgress]: RunnerProgress[K] } = { cursor: null, dead: [], resolved: [], deliveries: [], disabled: undefined };

  constructor(private readonly deps: RunnerDeps) {
    this.name = deps.config.name;
    this.cursor = this.persisted = this.readUpTo = deps.cursor;
    this.disabled = deps.disabled;
  }

  /** In memory past the cursor, in flight, and waiting for a retry. */
  get shape() {
    return { window: this.window.length, inFlight: this.inflight, retrying: this.delayed.size, redriving: this.redriving.size };
  }

  /** New events may be durable: read them (coalesced with a read in progress). */
  wake(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.fill();
  }

  private async fill(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        if (this.redriveWanted) await this.loadRedrives();
        this.full = false;
        while (!this.closed) {
          if (this.window.length >= WINDOW) {
            this.full = true;
            break;
          }
          const want = Math.min(READ_BATCH, WINDOW - this.window.length);
          const rows = await this.deps.store.readStoredOutbox(this.readUpTo, want);
          for (const row of rows) this.add(row);
          this.advance();
          this.schedule();
          if (rows.length < want) break;
        }
      } while (this.again && !this.closed);
    } catch (err) {
      this.lastError = { at: new Date(this.deps.now()).toISOString(), eventId: '', message: `reading the outbox failed: ${(err as Error).message}` };
    } finally {
      this.reading = false;
    }
  }

  private add(row: StoredOutboxRow): void {
    this.readUpTo = row.seq;
    const item: Item = { row, json: '', key: keyOf(row), redrive: false, failures: 0, nextAt: 0, state: 'queued' };
    this.window.push(item);
    if (!passes(this.deps.config.filter, row)) {
      item.state = 'done';
      return;
    }
    item.json = eventJson(row);
    const q = this.queues.get(item.key);
    if (q) q.push(item);
    else {
      this.queues.set(item.key, [item]);
      this.eligible(item);
    }
  }

  private eligible(item: Item): void {
    if (item.nextAt <= this.deps.now()) {
      item.state = 'ready';
      this.ready.push(item);
    } else {
      item.state = 'delayed';
      this.delayed.add(item);
      this.arm();
    }
  }

  private schedule(): void {
    if (this.closed || this.disabled) return;
    while (this.inflight < this.deps.sink.concurrency && this.ready.length > 0) this.start(this.ready.shift()!);
  }

  private start(item: Item): void {
    item.state = 'inflight';
    this.inflight++;
    const t0 = performance.now();
    void this.deps.sink.deliver(item.row, item.json).then(
      (a) => this.complete(item, a, performance.now() - t0),
      (err: unknown) => this.complete(item, { ok: false, error: `the sink failed: ${(err as Error).message}` }, performance.now() - t0),
    );
  }

  private complete(item: Item, a: Attempt, latencyMs: number): void {
    this.inflight--;
    const at = new Date(this.deps.now()).toISOString();
    this.progress.deliveries.push({ sink: this.name, eventId: item.row.id, seq: item.row.seq, attempt: item.failures + 1, status: a.status ?? null, error: a.ok ? null : (a.error ?? 'failed'), latencyMs: Math.round(latencyMs * 1000) / 1000, at });
    if (a.ok) {
      this.counts.delivered++;
      this.finish(item);
    } else if (a.disable) {
      // Not the event's fault: it waits, first in line, until the sink is enabled again.
      this.lastError = { at, eventId: item.row.id, message: a.error ?? a.disable };
      this.setDisabled(a.disable, at);
      item.state = 'ready';
      this.ready.unshift(item);
    } else {
      this.counts.failedAttempts++;
      item.failures++;
      this.lastError = { at, eventId: item.row.id, message: a.error ?? 'failed' };
      if (item.failures >= this.deps.config.maxAttempts) {
        this.counts.deadLettered++;
        this.progress.dead.push({ sink: this.name, seq: item.row.seq, eventId: item.row.id, attempts: item.failures, lastError: a.error ?? 'failed', deadAt: at, redrive: false });
        this.finish(item, false);
      } else {
        item.nextAt = this.deps.now() + backoffMs(item.failures, this.deps.outbox.backoffBaseMs, this.deps.outbox.backoffCapMs);
        this.eligible(item);
      }
    }
    this.schedule();
    if (this.inflight === 0) for (const f of this.idle.splice(0)) f();
    if (this.full && this.window.length < WINDOW / 2) this.wake();
  }

  private finish(item: Item, delivered = true): void {
    item.state = 'done';
    if (item.redrive) {
      this.redriving.delete(item.row.seq);
      if (delivered) {
        this.counts.redriven++;
        this.progress.resolved.push(item.row.seq);
      }
      return;
    }
    const q = this.queues.get(item.key)!;
    q.shift();
    if (q.length === 0) this.queues.delete(item.key);
    else this.eligible(q[0]);
    this.advance();
  }

  private advance(): void {
    while (this.window.length > 0 && this.window.peek()!.state === 'done') this.cursor = this.window.shift()!.row.seq;
    if (this.window.length === 0) this.cursor = this.readUpTo;
  }

  /** One timer for the earliest retry; due events become ready when it fires. */
  private arm(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    let next = Infinity;
    for (const item of this.delayed) next = Math.min(next, item.nextAt);
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      const now = this.deps.now();
      for (const item of this.delayed) {
        if (item.nextAt <= now) {
          this.delayed.delete(item);
          item.state = 'ready';
          this.ready.push(item);
        }
      }
      this.arm();
      this.schedule();
    }, Math.max(0, next - this.deps.now()));
    this.timer.unref();
  }

  private async loadRedrives(): Promise<void> {
    this.redriveWanted = false;
    for (const d of await this.deps.store.deadLetters(this.name, 10_000, true)) {
      if (this.redriving.has(d.seq)) continue;
      const row = await this.deps.store.storedOutboxEventById(d.eventId);
      if (!row) continue;
      this.redriving.add(d.seq);
      const item: Item = { row, json: eventJson(row), key: keyOf(row), redrive: true, failures: 0, nextAt: 0, state: 'ready' };
      this.ready.push(item);
    }
    this.schedule();
  }

  /** Dead letters were marked for redrive: load them on the next read. */
  redrive(): void {
    this.redriveWanted = true;
    this.wake();
  }

  /** Retry now: every waiting event is due at once, and a sink disabled by a 410 is enabled. */
  retryNow(): void {
    for (const item of this.delayed) {
      item.nextAt = 0;
      item.state = 'ready';
      this.ready.push(item);
    }
    this.delayed.clear();
    clearTimeout(this.timer);
    if (this.disabled) {
      this.disabled = null;
      this.progress.disabled = null;
    }
    this.schedule();
    this.wake();
  }

  private setDisabled(reason: string, at: string): void {
    if (this.disabled) return;
    this.disabled = { at, reason };
    this.progress.disabled = reason;
  }

  /** Takes what the next flush persists (null cursor: unchanged). */
  take(): RunnerProgress | null {
    const p = this.progress;
    const cursor = this.cursor !== this.persisted ? this.cursor : null;
    if (cursor === null && !p.dead.length && !p.resolved.length && !p.deliveries.length && p.disabled === undefined) return null;
    this.progress = { cursor: null, dead: [], resolved: [], deliveries: [], disabled: undefined };
    return { ...p, cursor };
  }

  /** The flush that took `p` is durable. */
  persistedAt(p: RunnerProgress): void {
    if (p.cursor !== null) this.persisted = Math.max(this.persisted, p.cursor);
  }

  /** The flush that took `p` failed: keep it for the next one. */
  giveBack(p: RunnerProgress): void {
    const q = this.progress;
    this.progress = {
      cursor: null,
      dead: [...p.dead, ...q.dead],
      resolved: [...p.resolved, ...q.resolved],
      deliveries: [...p.deliveries, ...q.deliveries],
      disabled: q.disabled !== undefined ? q.disabled : p.disabled,
    };
  }

  /** Stops starting deliveries; resolves once none is in flight, or after `waitMs`. */
  async close(waitMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
