import type { Envelope } from '../core/envelope.js';
import { READ_TOKEN_SCHEME, readTokenOf } from '../core/read-token.js';
import { uuidv7 } from '../core/uuid7.js';
import { signBytes, type SignKey } from '../core/signature.js';
import { actorOfKeyId, envelopeToSign, readTokenToSign, signedEnvelope, type EnvelopeDefaults } from './sign-parts.js';

export { actorOfKeyId };

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

/**
 * Completes an envelope (v, requestId, nonce, timestamp when absent; actor from the key id's
 * `<actor>#<n>` form and tenant from `defaults` when absent) and signs its RFC 8785 bytes.
 * (sign-web.ts does the same with a WebCrypto key, in a browser.)
 */
export function signEnvelope(input: Record<string, unknown>, signer: Signer, defaults: EnvelopeDefaults = {}): { envelope: Envelope; commandHash: string } {
  const { filled, canonical } = envelopeToSign(input, signer.keyId, defaults);
  return signedEnvelope(filled, canonical, signer.keyId, signer.key.alg, signBytes(signer.key, canonical));
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
  const input = readTokenToSign({ ...signer, alg: signer.key.alg }, method, target, options);
  return readTokenOf(input, signBytes(signer.key, new TextEncoder().encode(input)));
}

/** The `Authorization` value of one signed read: `WritSig <read token>` (signReadToken's arguments). */
export function readAuthorization(signer: ReadSigner, method: string, target: string, options: { now?: Date; ttlSeconds?: number } = {}): string {
  return `${READ_TOKEN_SCHEME} ${signReadToken(signer, method, target, options)}`;
}
