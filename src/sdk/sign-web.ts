import type { Envelope } from '../core/envelope.js';
import { READ_TOKEN_SCHEME, readTokenOf } from '../core/read-token.js';
import { webSign, type WebKeyAlg } from '../core/web-signature.js';
import { envelopeToSign, readTokenToSign, signedEnvelope, type EnvelopeDefaults } from './sign-parts.js';

/**
 * The SDK's signing with a WebCrypto key (a browser's non-extractable CryptoKey, or Node's
 * webcrypto): the same envelopes and read tokens as sign.ts, asynchronously.
 */
export interface WebSigner {
  readonly keyId: string;
  readonly alg: WebKeyAlg;
  readonly key: CryptoKey;
  /** The tenant the key is registered in. */
  readonly tenant: string;
}

export async function signEnvelopeWeb(input: Record<string, unknown>, signer: WebSigner, defaults: EnvelopeDefaults = {}): Promise<{ envelope: Envelope; commandHash: string }> {
  const { filled, canonical } = envelopeToSign(input, signer.keyId, { tenant: signer.tenant, ...defaults });
  return signedEnvelope(filled, canonical, signer.keyId, signer.alg, await webSign(signer.key, signer.alg, canonical));
}

/** `WritSig <read token>` for one request (method and path with query, as sent). */
export async function readAuthorizationWeb(signer: WebSigner, method: string, target: string, options: { now?: Date; ttlSeconds?: number } = {}): Promise<string> {
  const input = readTokenToSign(signer, method, target, options);
  return `${READ_TOKEN_SCHEME} ${readTokenOf(input, await webSign(signer.key, signer.alg, new TextEncoder().encode(input)))}`;
}
