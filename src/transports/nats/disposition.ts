import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { isCode, type Code } from '../../core/codes.js';
import type { Reply } from '../../pipeline/context.js';
import { HEADERS } from './subjects.js';

/**
 * What the intake does with a command message once the pipeline answered it:
 * - `ack`: the answer is final (applied, held, refused, invalid) — send it, then acknowledge, so the
 *   message is never delivered again. The pipeline answers only after the durable commit, so an ack
 *   always follows the commit (persist-before-ack).
 * - `nak`: writ could not decide now (UNAVAILABLE: saturated or the store cannot write;
 *   IDEMPOTENCY_IN_PROGRESS: another delivery of the same command is still being applied) — no
 *   answer; the server delivers the message again after the delay, and that delivery answers.
 */
export type Disposition =
  | { readonly kind: 'ack'; readonly code: Code | null; readonly requestId: string | null }
  | { readonly kind: 'nak'; readonly code: Code; readonly requestId: string | null; readonly delayMs: number };

/** Codes after which the same message is delivered again rather than answered. */
const RETRY: ReadonlySet<Code> = new Set(['UNAVAILABLE', 'IDEMPOTENCY_IN_PROGRESS']);

export function disposition(reply: Reply, nakDelayMs: number): Disposition {
  let code: Code | null = null;
  let requestId: string | null = null;
  try {
    const a = JSON.parse(reply.body) as { code?: unknown; requestId?: unknown };
    if (isCode(a.code)) code = a.code;
    if (typeof a.requestId === 'string') requestId = a.requestId;
  } catch {
    // Every pipeline answer is JSON; a body that is not still gets acknowledged with its status.
  }
  if (code !== null && RETRY.has(code)) {
    return { kind: 'nak', code, requestId, delayMs: Math.max(nakDelayMs, (reply.retryAfter ?? 0) * 1000) };
  }
  return { kind: 'ack', code, requestId };
}

/** The headers of an answer message: the HTTP-equivalent status and the HTTP transport's extras. */
export function answerHeaders(reply: Reply): MsgHdrs {
  const h = headers();
  h.set(HEADERS.status, String(reply.httpStatus));
  h.set('Content-Type', 'application/json');
  if (reply.replayed) h.set(HEADERS.replayed, 'true');
  if (reply.retryAfter !== undefined) h.set(HEADERS.retryAfter, String(reply.retryAfter));
  return h;
}
