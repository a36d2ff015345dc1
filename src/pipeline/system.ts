import { jcsBytes } from '../canonical/jcs.js';
import type { Envelope } from '../core/envelope.js';
import { sha256Hex } from '../core/hash.js';
import type { CommandContext } from './context.js';

/** The actor of commands applied on writ's own authority (bootstrap, scheduler, approval expiry). */
export const SYSTEM_ACTOR = 'writ';

/**
 * Submits a command on writ's own authority: `Pipeline.system`, bound. It MUST validate and record
 * the command like any other (a ledger record, OK or REJECTED), and MUST answer a requestId it
 * stored an outcome for with that outcome or with IDEMPOTENCY_KEY_REUSED, never by applying it again.
 */
export type SystemSubmit = (tenant: string, action: string, payload: Record<string, unknown>, requestId: string) => Promise<{ readonly httpStatus: number; readonly body: string }>;

/**
 * The context of a command writ applies on its own authority: actor `writ`, not signed, not put to
 * policy, its envelope completed here (the time, and a nonce derived from the requestId).
 */
export function systemContext(tenant: string, action: string, payload: Record<string, unknown>, requestId: string, nowMs: number): CommandContext {
  const envelope: Envelope = { v: 1, action, requestId, actor: SYSTEM_ACTOR, tenant, timestamp: new Date(nowMs).toISOString(), nonce: `system-${requestId}`, payload };
  const canonical = jcsBytes(envelope);
  return {
    submission: { body: canonical, receivedAt: nowMs },
    envelope,
    canonical,
    commandHash: sha256Hex(canonical),
    auth: { method: 'system', keyId: null, sigDigest: null },
    prior: null,
    nonceChecked: false,
    ownsKey: false,
    roles: [],
  };
}
