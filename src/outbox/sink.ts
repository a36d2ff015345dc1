import type { StoredOutboxRow } from '../store/port.js';

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
 * Calls for different entities may overlap, up to `concurrency`. `json` is eventJson(event), built
 * once per event by the dispatcher and sent as is, so every sink sends the same bytes.
 */
export interface Sink {
  readonly kind: 'webhook' | 'nats' | 'ndjson' | 'effector';
  readonly concurrency: number;
  deliver(event: StoredOutboxRow, json: string): Promise<Attempt>;
  close(): Promise<void>;
}

/**
 * The JSON body every sink sends for an event: the outbox row as stored, with its seq, keys in this
 * order. `data` is spliced in as its stored text: that text was written by JSON.stringify, and
 * JSON.stringify(JSON.parse(text)) gives it back unchanged, so these are the bytes that stringifying
 * the parsed event gives, without parsing and re-encoding `data` for every event.
 */
export function eventJson(e: StoredOutboxRow): string {
  const s = JSON.stringify;
  return `{"id":${s(e.id)},"seq":${e.seq},"tenant":${s(e.tenant)},"scroll":${s(e.scroll)},"index":${e.index},"action":${s(e.action)},"target":${s(e.target)},"version":${s(e.version)},"type":${s(e.type)},"data":${e.data},"ts":${s(e.ts)}}`;
}

export function errorText(err: unknown): string {
  const e = err as Error & { cause?: Error; code?: string };
  const cause = e.cause?.message ? ` (${e.cause.message})` : '';
  return `${e.message ?? String(err)}${cause}`.slice(0, 500);
}
