import { WritError } from './errors.js';
import { fromBase64, toBase64 } from './tlog/base64.js';

/** base64url without padding (RFC 4648 §5, as JWS uses it, RFC 7515 §2), with no Node API. */
export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes unpadded base64url; throws WritError `code` on anything else (a wrong length, a
 * character outside the alphabet, non-zero trailing bits).
 */
export function fromBase64Url(s: string, code: 'UNAUTHENTICATED' | 'PROOF_INVALID' = 'PROOF_INVALID'): Uint8Array {
  if (s.length % 4 === 1 || /[^A-Za-z0-9_-]/.test(s)) throw new WritError(code, 'invalid base64url');
  const std = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  try {
    return fromBase64(std);
  } catch {
    throw new WritError(code, 'invalid base64url');
  }
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
