import { WritError } from '../errors.js';

/**
 * Ed25519 (RFC 8032) verification through WebCrypto (`globalThis.crypto.subtle`), which Node ≥ 20
 * and current browsers provide, so the same code verifies notes on the server and in a page.
 * Returns false for a malformed key or signature; throws PROOF_INVALID only when the runtime
 * cannot verify Ed25519 at all, so that "cannot check" is never reported as "forged".
 */
export async function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new WritError('PROOF_INVALID', 'this runtime has no WebCrypto (globalThis.crypto.subtle), so Ed25519 signatures cannot be verified');
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  let key: CryptoKey;
  try {
    key = await subtle.importKey('raw', publicKey.slice(), { name: 'Ed25519' }, false, ['verify']);
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name === 'NotSupportedError') {
      throw new WritError('PROOF_INVALID', 'this runtime does not support Ed25519 in WebCrypto, so signatures cannot be verified', { cause: err });
    }
    return false;
  }
  try {
    return await subtle.verify({ name: 'Ed25519' }, key, signature.slice(), message.slice());
  } catch {
    return false;
  }
}
