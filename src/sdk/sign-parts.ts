import { jcs } from '../canonical/jcs.js';
import { utf8 } from '../core/base64url.js';
import { unsignedPart, type Envelope, type PartialEnvelope } from '../core/envelope.js';
import { sha256Hex } from '../core/hash.js';
import { JWS_ALG, READ_TOKEN_MAX_SECONDS, READ_TOKEN_TYPE, readTokenSigningInput, type KeyAlg } from '../core/read-token.js';
import { toBase64 } from '../core/tlog/base64.js';
import { uuidv7 } from '../core/uuid7.js';

/**
 * What signing an envelope or a read token needs, with no Node API, so the Node signer
 * (sign.ts, node:crypto) and the browser's (sign-web.ts, WebCrypto) build the very same bytes.
 */
export interface EnvelopeDefaults {
  readonly tenant?: string;
  readonly actor?: string;
  readonly now?: Date;
}

/** The actor a key id names by writ's convention `<actor>#<n>`. */
export function actorOfKeyId(keyId: string): string | undefined {
  const i = keyId.lastIndexOf('#');
  return i > 0 ? keyId.slice(0, i) : undefined;
}

/**
 * Completes an envelope (v, requestId, nonce, timestamp when absent; actor from the key id's
 * `<actor>#<n>` form and tenant from `defaults` when absent) and returns it with the RFC 8785
 * bytes its signature covers.
 */
export function envelopeToSign(input: Record<string, unknown>, keyId: string, defaults: EnvelopeDefaults): { filled: Record<string, unknown>; canonical: Uint8Array } {
  const actor = defaults.actor ?? actorOfKeyId(keyId);
  const filled: Record<string, unknown> = {
    v: 1,
    requestId: uuidv7(),
    nonce: uuidv7(),
    timestamp: (defaults.now ?? new Date()).toISOString(),
    ...(defaults.tenant ? { tenant: defaults.tenant } : {}),
    ...(actor ? { actor } : {}),
    ...input,
  };
  delete filled.signature;
  return { filled, canonical: utf8(jcs(unsignedPart(filled as unknown as PartialEnvelope))) };
}

/** The signed envelope and its commandHash (SHA-256 of the canonical bytes). */
export function signedEnvelope(filled: Record<string, unknown>, canonical: Uint8Array, keyId: string, alg: KeyAlg, sig: Uint8Array): { envelope: Envelope; commandHash: string } {
  const envelope = { ...filled, signature: { keyId, alg, sig: toBase64(sig) } } as unknown as Envelope;
  return { envelope, commandHash: sha256Hex(canonical) };
}

/** The JWS signing input of a read token for one request (core/read-token.ts). */
export function readTokenToSign(who: { keyId: string; tenant: string; actor?: string; alg: KeyAlg }, method: string, target: string, options: { now?: Date; ttlSeconds?: number }): string {
  const actor = who.actor ?? actorOfKeyId(who.keyId);
  if (!actor) throw new Error(`key id ${JSON.stringify(who.keyId)} does not name its actor (<actor>#<n>); give the actor`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const ttl = Math.min(options.ttlSeconds ?? 60, READ_TOKEN_MAX_SECONDS);
  return readTokenSigningInput(
    { alg: JWS_ALG[who.alg], typ: READ_TOKEN_TYPE, kid: who.keyId },
    { sub: actor, tenant: who.tenant, iat, exp: iat + ttl, htm: method.toUpperCase(), htu: target },
  );
}
