import { WritError } from '../../core/errors.js';
import type { CommandStore, StoreLifecycle } from '../../store/port.js';
import type { CommandContext } from '../context.js';

export interface FreshnessOptions {
  readonly skewSeconds: number;
  /** Most nonces kept in memory; older ones are still found in the store. */
  readonly cacheMax: number;
}

/** What freshness reads from the store. */
/** `exclusive`: this process is the store's only writer, so memory can know every nonce. */
export type NonceSource = Pick<CommandStore, 'getNonce' | 'unexpiredNonces'> & Pick<StoreLifecycle, 'exclusive'>;

function rejectionKey(ctx: CommandContext): string {
  return `${ctx.envelope.tenant}\n${ctx.envelope.actor}\n${ctx.commandHash}\n${ctx.auth.sigDigest ?? ''}`;
}

/**
 * Timestamp skew and nonce anti-replay. A nonce is unique per (tenant, actor) for as long as its
 * envelope's timestamp is acceptable (timestamp + skew); after that the envelope is stale anyway.
 * Nonces are persisted with the command's outcome; memory holds a bounded cache of recent ones
 * (including those still in flight), and the store answers for the rest, so a restart forgets none.
 * A retransmission (same nonce, same commandHash) is not a replay: idempotency answers it.
 *
 * When this process is the store's only writer, memory is loaded with every unexpired nonce at
 * start-up; as long as no unexpired nonce has been evicted since, memory knows them all and a miss
 * needs no store read.
 */
export class Freshness {
  private readonly recent = new Map<string, { hash: string; exp: number }>();
  private readonly rejected = new Set<string>();
  /** Memory holds every unexpired nonce once `now` passes this (Infinity: never, the store is shared). */
  private incompleteUntil = Infinity;

  constructor(
    private readonly options: FreshnessOptions,
    private readonly source: NonceSource,
  ) {}

  /** Loads the unexpired nonces of the store into memory (call once, before serving). */
  async preload(now: number): Promise<void> {
    if (!this.source.exclusive) return;
    const rows = await this.source.unexpiredNonces(now, this.options.cacheMax + 1);
    const loaded = rows.slice(0, this.options.cacheMax);
    for (const r of loaded) this.recent.set(`${r.tenant}\n${r.actor}\n${r.nonce}`, { hash: r.commandHash, exp: r.expiresAt });
    // Ordered by expiry: what did not fit expires no later than two skews from now.
    this.incompleteUntil = rows.length > loaded.length ? now + 2 * this.options.skewSeconds * 1000 : -Infinity;
  }

  /** True when a nonce missing from memory is certainly not in the store either. */
  complete(now: number): boolean {
    return now > this.incompleteUntil;
  }

  get cached(): number {
    return this.recent.size;
  }

  async check(ctx: CommandContext, now: number): Promise<void> {
    if (ctx.prior && ctx.prior.commandHash === ctx.commandHash) return;
    const { tenant, actor, nonce, timestamp } = ctx.envelope;
    const key = `${tenant}\n${actor}\n${nonce}`;
    let seen = this.recent.get(key);
    if (!seen && !this.complete(now)) {
      const row = await this.source.getNonce(tenant, actor, nonce);
      if (row) seen = { hash: row.commandHash, exp: row.expiresAt };
    }
    // `>=`: at now === exp the timestamp is still within the skew (the check below uses `>`), so the nonce must be too.
    if (seen && seen.exp >= now) {
      if (seen.hash === ctx.commandHash) return;
      throw new WritError('NONCE_REPLAY', `nonce ${JSON.stringify(nonce)} was already used by ${actor}`);
    }
    const skewMs = this.options.skewSeconds * 1000;
    const ts = Date.parse(timestamp);
    if (Math.abs(now - ts) > skewMs) {
      throw new WritError('STALE_TIMESTAMP', `timestamp ${timestamp} is more than ${this.options.skewSeconds} s away from the server clock (${new Date(now).toISOString()})`, {
        details: { serverTime: new Date(now).toISOString(), skewSeconds: this.options.skewSeconds },
      });
    }
    this.remember(key, { hash: ctx.commandHash, exp: ts + skewMs }, now);
    ctx.nonceChecked = true;
  }

  /**
   * True when this very signed envelope failed freshness before and its refusal was recorded
   * (`noteRejection`). A captured stale envelope sent again and again is the same refusal, already
   * in the ledger: it is answered, counted, and not appended again. Bounded like the nonce cache.
   */
  repeatedRejection(ctx: CommandContext): boolean {
    return this.rejected.has(rejectionKey(ctx));
  }

  /** Remembers that the freshness refusal of this envelope is recorded. */
  noteRejection(ctx: CommandContext): void {
    if (this.rejected.size >= this.options.cacheMax) this.rejected.delete(this.rejected.values().next().value!);
    this.rejected.add(rejectionKey(ctx));
  }

  /** Expiry of a checked nonce, to persist with the outcome. */
  expiryOf(ctx: CommandContext): number {
    return Date.parse(ctx.envelope.timestamp) + this.options.skewSeconds * 1000;
  }

  private remember(key: string, entry: { hash: string; exp: number }, now: number): void {
    this.recent.set(key, entry);
    // Insertion order is roughly time order: drop expired entries from the front, then enforce the bound.
    for (const [k, v] of this.recent) {
      if (v.exp > now && this.recent.size <= this.options.cacheMax) break;
      // Evicting a nonce that has not expired: until it would have, misses must ask the store.
      if (v.exp >= now && this.incompleteUntil < v.exp) this.incompleteUntil = v.exp;
      this.recent.delete(k);
    }
  }
}
