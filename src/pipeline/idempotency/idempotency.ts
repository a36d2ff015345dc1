import { WritError } from '../../core/errors.js';
import type { CommandContext, Reply } from '../context.js';
import type { StoredOutcome } from '../../store/port.js';

export function idempotencyKey(tenant: string, actor: string, requestId: string): string {
  return `${tenant}\n${actor}\n${requestId}`;
}

/** The stored response, replayed byte for byte with `Idempotent-Replayed: true`. */
export function replayOf(outcome: StoredOutcome): Reply {
  return { httpStatus: outcome.httpStatus, body: outcome.response, replayed: true };
}

/**
 * Idempotency by (tenant, actor, requestId), after Stripe and the IETF Idempotency-Key draft: the same
 * key and commandHash replay the stored response; another commandHash is 422; a retry while the
 * first is in flight is 409. The apply transaction checks the store once more, so a key whose first
 * command committed after the lookup is still answered from the store, never applied twice.
 */
export class Idempotency {
  private readonly inflight = new Map<string, string>();

  get inFlight(): number {
    return this.inflight.size;
  }

  /** Returns a replay, throws a rejection, or claims the key for this command. */
  check(ctx: CommandContext): Reply | undefined {
    const { tenant, actor, requestId } = ctx.envelope;
    const prior = ctx.prior;
    if (prior) {
      if (prior.commandHash === ctx.commandHash) return replayOf(prior);
      throw new WritError('IDEMPOTENCY_KEY_REUSED', `requestId ${JSON.stringify(requestId)} was already used for another command`, { details: { commandHash: prior.commandHash } });
    }
    const key = idempotencyKey(tenant, actor, requestId);
    const running = this.inflight.get(key);
    if (running !== undefined) {
      if (running === ctx.commandHash) throw new WritError('IDEMPOTENCY_IN_PROGRESS', `a command with requestId ${JSON.stringify(requestId)} is still in progress`, { retryAfter: 1 });
      throw new WritError('IDEMPOTENCY_KEY_REUSED', `requestId ${JSON.stringify(requestId)} is in use by another command`);
    }
    this.inflight.set(key, ctx.commandHash);
    ctx.ownsKey = true;
    return undefined;
  }

  release(ctx: CommandContext): void {
    if (!ctx.ownsKey) return;
    const { tenant, actor, requestId } = ctx.envelope;
    this.inflight.delete(idempotencyKey(tenant, actor, requestId));
    ctx.ownsKey = false;
  }
}
