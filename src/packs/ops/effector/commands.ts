import type { Envelope } from '../../../core/envelope.js';
import type { Signer } from '../../../sdk/sign.js';
import { signEnvelope } from '../../../sdk/sign.js';

/** An answer of writ's pipeline to one of the effector's commands. */
export interface Answer {
  readonly status: number;
  readonly body: { readonly code?: string; readonly message?: string; readonly result?: unknown };
}

export type Submit = (envelope: Envelope) => Promise<Answer>;

/** Pushback and store failures: the same envelope may be sent again and be applied once. */
function transient(a: Answer): boolean {
  return a.status === 503 || a.status === 429 || (a.status === 409 && a.body.code === 'IDEMPOTENCY_IN_PROGRESS') || a.status === 500;
}

const SEND_TRIES = 8;

/**
 * Signs one command with the effector's own key and sends it through writ's pipeline like any
 * client's: authenticated, checked against policy (only the effector role may send these) and
 * recorded. A transient refusal is retried with the very same envelope (same requestId and
 * signature), so it is applied at most once.
 */
export async function send(submit: Submit, signer: Signer, tenant: string, action: string, payload: Record<string, unknown>): Promise<Answer> {
  const { envelope } = signEnvelope({ action, tenant, payload }, signer);
  let answer: Answer = { status: 0, body: {} };
  for (let i = 0; i < SEND_TRIES; i++) {
    answer = await submit(envelope);
    if (!transient(answer)) return answer;
    await new Promise((r) => setTimeout(r, 50 * 2 ** i));
  }
  return answer;
}
