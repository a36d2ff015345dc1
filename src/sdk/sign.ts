import { jcsBytes } from '../canonical/jcs.js';
import { unsignedPart, type Envelope, type PartialEnvelope } from '../core/envelope.js';
import { sha256Hex } from '../core/hash.js';
import { JWS_ALG, READ_TOKEN_MAX_SECONDS, READ_TOKEN_SCHEME, READ_TOKEN_TYPE, readTokenOf, readTokenSigningInput } from '../core/read-token.js';
import { uuidv7 } from '../core/uuid7.js';
import { signBytes, type SignKey } from '../core/signature.js';

export interface Signer {
  readonly key: SignKey;
  readonly keyId: string;
}

/**
 * A fresh nonce or request id: a UUIDv7 (RFC 9562), 74 random bits after a millisecond timestamp.
 * Time-ordered keys land at the end of the store's indexes instead of on a random page each, which
 * keeps every commit smaller; uniqueness is all a nonce needs.
 */
export function newNonce(): string {
  return uuidv7();
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
    requestId: uuidv7(),
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

/** Who signs reads, and as whom: the key's tenant (and its actor when the key id does not say). */
export interface ReadSigner extends Signer {
  readonly tenant: string;
  readonly actor?: string;
}

/**
 * A read token (core/read-token.ts) for one request: `method` and `target` (the path with its
 * query, exactly as sent), valid for `ttlSeconds` (default 60, at most 300) from `now`. Send it as
 * `Authorization: WritSig <token>`.
 */
export function signReadToken(signer: ReadSigner, method: string, target: string, options: { now?: Date; ttlSeconds?: number } = {}): string {
  const actor = signer.actor ?? actorOfKeyId(signer.keyId);
  if (!actor) throw new Error(`key id ${JSON.stringify(signer.keyId)} does not name its actor (<actor>#<n>); give the actor`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const ttl = Math.min(options.ttlSeconds ?? 60, READ_TOKEN_MAX_SECONDS);
  const input = readTokenSigningInput(
    { alg: JWS_ALG[signer.key.alg], typ: READ_TOKEN_TYPE, kid: signer.keyId },
    { sub: actor, tenant: signer.tenant, iat, exp: iat + ttl, htm: method.toUpperCase(), htu: target },
  );
  return readTokenOf(input, signBytes(signer.key, Buffer.from(input, 'ascii')));
}

/** The `Authorization` value of one signed read: `WritSig <read token>` (signReadToken's arguments). */
export function readAuthorization(signer: ReadSigner, method: string, target: string, options: { now?: Date; ttlSeconds?: number } = {}): string {
  return `${READ_TOKEN_SCHEME} ${signReadToken(signer, method, target, options)}`;
}
