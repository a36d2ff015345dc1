import { createHash, hash } from 'node:crypto';

/**
 * SHA-256 backed by node:crypto (OpenSSL), for the server's hot paths. The console's bundle
 * replaces this file with sha256-web.ts (src/console/build.ts), which gives the same results with
 * the portable SHA-256 of core/tlog; test/console-core.test.ts checks that they agree.
 */
export function sha256HexImpl(data: string | Uint8Array): string {
  // The one-shot crypto.hash (Node >= 20.12) skips the Hash object of createHash.
  return hash('sha256', data, 'hex');
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf bytes), lowercase hex. */
export function leafHashHexImpl(leaf: Uint8Array): string {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest('hex');
}

const LEAF_PREFIX = Uint8Array.of(0);
