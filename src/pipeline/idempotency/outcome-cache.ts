import type { StoredOutcome } from '../../store/port.js';

/** Most outcomes kept in memory. */
export const DEFAULT_OUTCOME_CACHE_MAX = 50_000;

/**
 * Recent stored outcomes, so that a retry (usually soon after the original) is answered without a
 * store read. A stored outcome changes only when a command held for approval reaches its final
 * answer, and the applier reports that replacement (`put(…, true)`); otherwise the first outcome of
 * a key wins, so the only staleness is retention: an entry older than the retention is treated as
 * absent. Only found outcomes are cached; a miss always asks the store.
 */
export class OutcomeCache {
  private readonly entries = new Map<string, StoredOutcome>();

  constructor(
    private readonly retentionMs: number,
    private readonly max = DEFAULT_OUTCOME_CACHE_MAX,
  ) {}

  get(tenant: string, actor: string, requestId: string, now: number): StoredOutcome | undefined {
    const key = `${tenant}\n${actor}\n${requestId}`;
    const o = this.entries.get(key);
    if (!o) return undefined;
    if (this.expired(o, now)) {
      this.entries.delete(key);
      return undefined;
    }
    return o;
  }

  /** Keeps an outcome, unless it is past the retention already or its key has one (and it does not replace it). */
  put(o: StoredOutcome, now: number, replace = false): void {
    const key = `${o.tenant}\n${o.actor}\n${o.requestId}`;
    if (replace) this.entries.delete(key);
    if (this.expired(o, now)) return;
    if (this.entries.has(key)) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, o);
  }

  private expired(o: StoredOutcome, now: number): boolean {
    return o.createdAt + this.retentionMs <= now;
  }

  get size(): number {
    return this.entries.size;
  }
}
