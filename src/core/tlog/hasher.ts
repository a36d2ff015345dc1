import { sha256 } from './sha256.js';

/** A SHA-256 Merkle tree hash: always 32 bytes. */
export type Hash = Uint8Array;

/**
 * The two hash functions of an RFC 6962 §2.1 Merkle tree. Implementations MUST compute
 * leaf(d) = SHA-256(0x00 ‖ d) and node(l, r) = SHA-256(0x01 ‖ l ‖ r) and MUST NOT keep or modify
 * the arrays they are given; they differ only in speed (the pure one runs anywhere, the server
 * passes one backed by node:crypto).
 */
export interface Hasher {
  leaf(data: Uint8Array): Hash;
  node(left: Hash, right: Hash): Hash;
}

/** RFC 6962 §2.1 hashing with the synchronous pure-TypeScript SHA-256; runs unchanged in a browser. */
export const pureHasher: Hasher = Object.freeze({
  leaf(data: Uint8Array): Hash {
    const buf = new Uint8Array(1 + data.length);
    buf.set(data, 1);
    return sha256(buf);
  },
  node(left: Hash, right: Hash): Hash {
    const buf = new Uint8Array(1 + left.length + right.length);
    buf[0] = 1;
    buf.set(left, 1);
    buf.set(right, 1 + left.length);
    return sha256(buf);
  },
});

/** SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1, MTH({}) = SHA-256()). */
export function emptyRoot(): Hash {
  return sha256(new Uint8Array(0));
}

/**
 * Byte equality without an early exit, so that comparing a computed hash with an expected one does
 * not reveal through timing where they first differ.
 */
export function hashEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
