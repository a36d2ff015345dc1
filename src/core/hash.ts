import { createHash, hash } from 'node:crypto';

/** SHA-256 of the bytes, as lowercase hex (all hashes inside writ's JSON records are lowercase hex). */
export function sha256Hex(data: string | Uint8Array): string {
  // The one-shot crypto.hash (Node >= 20.12) skips the Hash object of createHash.
  return hash('sha256', data, 'hex');
}

/** The genesis `prev` of every hash chain (DESIGN §2). */
export const ZERO_HASH = '0'.repeat(64);

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf bytes), lowercase hex. */
export function leafHashHex(leaf: Uint8Array): string {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest('hex');
}

const LEAF_PREFIX = Uint8Array.of(0);
