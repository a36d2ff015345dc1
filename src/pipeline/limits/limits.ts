import { WritError } from '../../core/errors.js';
import type { Directory } from '../../state/directory.js';
import { flagRefusal } from '../../state/flags.js';
import type { CommandContext } from '../context.js';

export interface LimitOptions {
  /** Commands allowed per window and per (tenant, actor). */
  readonly rate: number;
  readonly windowSeconds: number;
  /** Most buckets kept; the least recently used go first (an evicted bucket starts full). */
  readonly maxBuckets: number;
}

/** Token buckets per (tenant, actor), bounded in number. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(private readonly options: LimitOptions) {
    this.perMs = options.rate / (options.windowSeconds * 1000);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token, or returns the seconds until one is available. */
  take(key: string, now: number): number | undefined {
    const b = this.buckets.get(key);
    let tokens = this.options.rate;
    if (b) {
      // A wall clock that steps back must not drain the bucket (and lock the actor out).
      tokens = Math.min(this.options.rate, b.tokens + Math.max(0, now - b.at) * this.perMs);
      this.buckets.delete(key);
    } else if (this.buckets.size >= this.options.maxBuckets) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      // The epsilon keeps float error from adding a whole second.
      return Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000 - 1e-9));
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return undefined;
  }
}

/**
 * Takes the command's token from its (tenant, actor) bucket, once. Every record an actor causes is
 * charged one token — a command at this stage, a refusal before it when it is recorded — so no
 * actor adds more than limits.rate records per window, whatever it sends.
 */
export function charge(ctx: CommandContext, limiter: RateLimiter, now: number): void {
  if (ctx.charged) return;
  const { tenant, actor } = ctx.envelope;
  const wait = limiter.take(`${tenant}\n${actor}`, now);
  if (wait !== undefined) throw new WritError('RATE_LIMITED', `${actor} exceeded the rate limit; retry after ${wait} s`, { retryAfter: wait });
  ctx.charged = true;
}

/** The rate limit, then resolver flags (see flagRefusal): a flagged actor's refusals are records, so they take tokens too. */
export function limits(ctx: CommandContext, directory: Directory, limiter: RateLimiter, now: number): void {
  charge(ctx, limiter, now);
  const { tenant, actor, action } = ctx.envelope;
  const refusal = flagRefusal(directory, tenant, actor, action);
  if (refusal) throw refusal;
}
