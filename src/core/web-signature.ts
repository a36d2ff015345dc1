import { WritError } from './errors.js';
import { fromBase64 } from './tlog/base64.js';

/**
 * Signing with WebCrypto (globalThis.crypto.subtle, in browsers and in Node 20), for signers
 * whose private key must stay non-extractable: the console's operator keys. Same algorithms and
 * signature encodings as signature.ts (Ed25519, RFC 8032; ES256 as raw r‖s, RFC 7518 §3.4).
 */
export type WebKeyAlg = 'ed25519' | 'es256';

const PARAMS: Record<WebKeyAlg, { import: EcKeyImportParams | Algorithm; sign: Algorithm | EcdsaParams }> = {
  ed25519: { import: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  es256: { import: { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyImportParams, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams },
};

/** The DER bytes of the first `-----BEGIN PRIVATE KEY-----` block of a PEM text (PKCS#8, RFC 5208). */
export function pkcs8FromPem(pem: string): Uint8Array {
  const m = /-----BEGIN PRIVATE KEY-----([\sA-Za-z0-9+/=]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new WritError('INVALID_ENVELOPE', 'not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----): use the .key file `writ keys new` wrote');
  return fromBase64(m[1].replace(/\s+/g, ''));
}

// The PKCS#8 AlgorithmIdentifier OIDs: id-Ed25519 1.3.101.112 (RFC 8410), id-ecPublicKey 1.2.840.10045.2.1.
const ED25519_OID = [0x06, 0x03, 0x2b, 0x65, 0x70];
const EC_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

function contains(der: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= Math.min(der.length, 40); i++) {
    for (let j = 0; j < needle.length; j++) if (der[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Which algorithm a PKCS#8 key is for, read from its AlgorithmIdentifier. */
export function pkcs8Alg(der: Uint8Array): WebKeyAlg {
  if (contains(der, ED25519_OID)) return 'ed25519';
  if (contains(der, EC_OID)) return 'es256';
  throw new WritError('INVALID_ENVELOPE', 'unsupported key type: writ signs with Ed25519 or ECDSA P-256');
}

/** Imports a PKCS#8 private key as a non-extractable signing key. */
export async function importSigningKey(der: Uint8Array, alg: WebKeyAlg = pkcs8Alg(der)): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('pkcs8', der as BufferSource, PARAMS[alg].import, false, ['sign']);
}

export async function webSign(key: CryptoKey, alg: WebKeyAlg, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.sign(PARAMS[alg].sign, key, data as BufferSource));
}
