import { randomBytes, randomUUID } from 'node:crypto';
import { jcsBytes } from '../canonical/jcs.js';
import { unsignedPart, type Envelope, type PartialEnvelope } from '../core/envelope.js';
import { sha256Hex } from '../core/hash.js';
import { signBytes, type SignKey } from '../core/signature.js';

export interface Signer {
  readonly key: SignKey;
  readonly keyId: string;
}

/** A fresh nonce: 16 random bytes, base64url. */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The actor a key id names by writ's convention `<actor>#<n>`. */
export function actorOfKeyId(keyId: string): string | undefined {
  const i = keyId.lastIndexOf('#');
  return i > 0 ? keyId.slice(0, i) : undefined;
}

/**
 * Completes an envelope (v, requestId, nonce, timestamp when absent; actor from the key id's
 * `<actor>#<n>` form and tenant from `defaults` when absent) and signs its RFC 8785 bytes.
 */
export function signEnvelope(input: Record<string, unknown>, signer: Signer, defaults: { tenant?: string; actor?: string; now?: Date } = {}): { envelope: Envelope; commandHash: string } {
  const filled: Record<string, unknown> = {
    v: 1,
    requestId: randomUUID(),
    nonce: newNonce(),
    timestamp: (defaults.now ?? new Date()).toISOString(),
    ...(defaults.tenant ? { tenant: defaults.tenant } : {}),
    ...((defaults.actor ?? actorOfKeyId(signer.keyId)) ? { actor: defaults.actor ?? actorOfKeyId(signer.keyId) } : {}),
    ...input,
  };
  delete filled.signature;
  const canonical = jcsBytes(unsignedPart(filled as unknown as PartialEnvelope));
  const sig = signBytes(signer.key, canonical).toString('base64');
  const envelope = { ...filled, signature: { keyId: signer.keyId, alg: signer.key.alg, sig } } as unknown as Envelope;
  return { envelope, commandHash: sha256Hex(canonical) };
}
