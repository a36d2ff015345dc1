import { toHex } from './tlog/base64.js';
import { sha256 } from './tlog/sha256.js';

/**
 * The browser's SHA-256 for core/hash.ts: the portable SHA-256 of core/tlog (synchronous, as the
 * callers of sha256Hex are). The console's bundle uses this file in place of sha256-node.ts.
 */
export function sha256HexImpl(data: string | Uint8Array): string {
  return toHex(sha256(typeof data === 'string' ? new TextEncoder().encode(data) : data));
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf bytes), lowercase hex. */
export function leafHashHexImpl(leaf: Uint8Array): string {
  const input = new Uint8Array(leaf.length + 1);
  input.set(leaf, 1);
  return toHex(sha256(input));
}
