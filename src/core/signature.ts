import { createHmac, createPrivateKey, createPublicKey, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/**
 * Signing and verification of canonical envelope bytes. Only node:crypto is used, so the SDK and the
 * server share this file. Ed25519 per RFC 8032; ES256 is ECDSA P-256 with SHA-256 and the raw r‖s
 * signature encoding of JWS (RFC 7518 §3.4); HS256 is HMAC-SHA-256.
 */
export type VerifyKey = { readonly alg: 'ed25519' | 'es256'; readonly key: KeyObject } | { readonly alg: 'hs256'; readonly secret: Uint8Array };

export function verifySignature(key: VerifyKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (key.alg) {
      case 'ed25519':
        return signature.length === 64 && cryptoVerify(null, data, key.key, signature);
      case 'es256':
        return signature.length === 64 && cryptoVerify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'hs256': {
        const mac = createHmac('sha256', key.secret).update(data).digest();
        return signature.length === mac.length && timingSafeEqual(mac, signature);
      }
    }
  } catch {
    return false;
  }
}

export type SignKey = { readonly alg: 'ed25519' | 'es256'; readonly key: KeyObject } | { readonly alg: 'hs256'; readonly secret: Uint8Array };

export function signBytes(key: SignKey, data: Uint8Array): Buffer {
  switch (key.alg) {
    case 'ed25519':
      return cryptoSign(null, data, key.key);
    case 'es256':
      return cryptoSign('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' });
    case 'hs256':
      return createHmac('sha256', key.secret).update(data).digest();
  }
}

/** Loads a PKCS#8 PEM private key and tells which algorithm it is for. */
export function loadPrivateKey(pem: string): SignKey {
  const key = createPrivateKey(pem);
  return { alg: algOf(key), key };
}

function algOf(key: KeyObject): 'ed25519' | 'es256' {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'es256';
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}: writ signs with Ed25519 or ECDSA P-256`);
}
