import { WritError } from '../core/errors.js';
import type { KeyDoc } from './documents.js';

/** When a key may sign: each bound in ms since the epoch, null when it has none. */
export interface KeyValidity {
  readonly revokedAt: number | null;
  readonly notBefore: number | null;
  readonly notAfter: number | null;
}

const ms = (iso: string | null): number | null => (iso ? Date.parse(iso) : null);

/** The validity of a key as state holds it (`key/<keyId>`, writ.RegisterKey and writ.RevokeKey). */
export function validityOf(doc: KeyDoc): KeyValidity {
  return { revokedAt: ms(doc.revokedAt), notBefore: ms(doc.notBefore), notAfter: ms(doc.notAfter) };
}

/**
 * Why key `keyId` may not sign at `now` (KEY_REVOKED: revoked, not valid yet, or expired), or
 * undefined while it may. Checked when a signed command comes in (authenticate), and again when a
 * command held for approval is about to run: a held command carries its requester's signature, so
 * it runs only while that key could still sign it.
 */
export function keyRefusal(keyId: string, key: KeyValidity, now: number): WritError | undefined {
  const name = JSON.stringify(keyId);
  if (key.revokedAt !== null && key.revokedAt <= now) return new WritError('KEY_REVOKED', `key ${name} was revoked`);
  if (key.notBefore !== null && now < key.notBefore) return new WritError('KEY_REVOKED', `key ${name} is not valid before ${new Date(key.notBefore).toISOString()}`);
  if (key.notAfter !== null && now > key.notAfter) return new WritError('KEY_REVOKED', `key ${name} expired at ${new Date(key.notAfter).toISOString()}`);
  return undefined;
}
