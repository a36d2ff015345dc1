import { createHash } from 'node:crypto';
import type { Hash, Hasher } from '../core/tlog/hasher.js';

const LEAF = Uint8Array.of(0x00);
const NODE = Uint8Array.of(0x01);

/**
 * RFC 6962 §2.1 hashing backed by node:crypto (OpenSSL SHA-256), for the server's hot paths
 * (integration, tiles, proofs). Gives exactly the results of the portable pureHasher; a test checks it.
 */
export const nodeHasher: Hasher = Object.freeze({
  leaf(data: Uint8Array): Hash {
    return new Uint8Array(createHash('sha256').update(LEAF).update(data).digest());
  },
  node(left: Hash, right: Hash): Hash {
    return new Uint8Array(createHash('sha256').update(NODE).update(left).update(right).digest());
  },
});
