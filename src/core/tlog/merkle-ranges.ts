import { WritError } from '../errors.js';

/**
 * Which subtrees make up an RFC 6962 proof: pure arithmetic on leaf positions, no hashing, so a
 * server can read the hashes from wherever it stores them (tiles, a database, memory).
 */

/** A leaf range [start, end) whose Merkle Tree Hash (RFC 6962 §2.1) is one proof element. */
export type LeafRange = [start: number, end: number];

/** Throws PROOF_INVALID unless `n` is a non-negative safe integer (JS numbers stand in for uint64). */
export function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new WritError('PROOF_INVALID', `${what} must be a non-negative safe integer, got ${String(n)}`);
}

/** True for 1, 2, 4, 8, … (without 32-bit bit operations, which would cut safe integers). */
export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** The largest power of two strictly below n, for n ≥ 2 (the split point k of RFC 6962 §2.1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Ranges [start,end) of the leaves whose Merkle Tree Hashes form the RFC 6962 §2.1.1 inclusion
 * proof PATH(index, D[0:size]), in proof order (the leaf's sibling first, the root's child last).
 * Throws PROOF_INVALID unless 0 ≤ index < size.
 */
export function inclusionRanges(index: number, size: number): Array<[number, number]> {
  checkCount(index, 'index');
  checkCount(size, 'tree size');
  if (index >= size) throw new WritError('PROOF_INVALID', `index ${index} is not below the tree size ${size}`);
  const siblings: Array<[number, number]> = [];
  let start = 0;
  let end = size;
  // Walk from the root down to the leaf; each step's other half is one proof element.
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      siblings.push([mid, end]);
      end = mid;
    } else {
      siblings.push([start, mid]);
      start = mid;
    }
  }
  return siblings.reverse();
}

/**
 * Same for the RFC 6962 §2.1.2 consistency proof PROOF(size1, D[0:size2]) = SUBPROOF(size1, D, true),
 * in proof order. Empty when size1 == size2 or size1 == 0 (no proof is defined or needed there);
 * throws PROOF_INVALID when size1 > size2.
 */
export function consistencyRanges(size1: number, size2: number): Array<[number, number]> {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) throw new WritError('PROOF_INVALID', `size1 ${size1} is greater than size2 ${size2}`);
  if (size1 === 0 || size1 === size2) return [];
  const out: Array<[number, number]> = [];
  let start = 0;
  let end = size2;
  let whole = true; // the flag b of SUBPROOF: true while the subtree is a prefix of the old tree's root path
  for (;;) {
    if (size1 === end) {
      // SUBPROOF(m, D[m], b): nothing when b (the verifier knows the old root), else MTH(D[m]).
      if (!whole) out.push([start, end]);
      break;
    }
    const mid = start + splitPoint(end - start);
    if (size1 <= mid) {
      out.push([mid, end]);
      end = mid;
    } else {
      out.push([start, mid]);
      start = mid;
      whole = false;
    }
  }
  return out.reverse();
}
