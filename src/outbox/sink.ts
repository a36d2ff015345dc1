import type { OutboxRow } from '../store/port.js';

/** What one attempt to deliver one event came to. */
export interface Attempt {
  readonly ok: boolean;
  /** The endpoint's status (HTTP) when it answered. */
  readonly status?: number;
  /** Why it failed; names the endpoint and the problem, never a secret. */
  readonly error?: string;
  /** Set when the endpoint asks never to be called again (HTTP 410 Gone): the sink is disabled. */
  readonly disable?: string;
}

/**
 * A destination of outbox events. `deliver` MUST resolve (never reject) and MUST NOT resolve ok
 * before the event is safely with the destination (acknowledged, answered 2xx, or synced).
 * Calls for different entities may overlap, up to `concurrency`.
 */
export interface Sink {
  readonly kind: 'webhook' | 'nats' | 'ndjson';
  readonly concurrency: number;
  deliver(event: OutboxRow): Promise<Attempt>;
  close(): Promise<void>;
}

/** The JSON body every sink sends for an event: the outbox row as stored, with its seq. */
export function eventJson(e: OutboxRow): string {
  return JSON.stringify({ id: e.id, seq: e.seq, tenant: e.tenant, scroll: e.scroll, index: e.index, action: e.action, target: e.target, version: e.version, type: e.type, data: e.data, ts: e.ts });
}

export function errorText(err: unknown): string {
  const e = err as Error & { cause?: Error; code?: string };
  const cause = e.cause?.message ? ` (${e.cause.message})` : '';
  return `${e.message ?? String(err)}${cause}`.slice(0, 500);
}
