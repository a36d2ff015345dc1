import { WritError } from '../errors.js';
import { hashEquals, pureHasher, type Hash, type Hasher } from './hasher.js';
import { checkCount, isPowerOfTwo } from './merkle-ranges.js';

/**
 * RFC 9162 §2.1.3.2 / §2.1.4.2 verification of RFC 6962 Merkle inclusion and consistency proofs.
 * Sizes and indexes are JS numbers, limited to safe integers (2^53 leaves is beyond any log).
 * Every failure throws WritError PROOF_INVALID saying why.
 */

export { consistencyRanges, inclusionRanges, type LeafRange } from './merkle-ranges.js';
export { MemoryTree, TreeBuilder } from './merkle-tree.js';

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

function checkHash(h: Uint8Array, what: string): void {
  if (h.length !== 32) fail(`${what} must be 32 bytes, got ${h.length}`);
}

const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * The root that an RFC 6962 §2.1.1 inclusion proof for `leafHash` at `index` in a tree of `size`
 * leaves leads to (RFC 9162 §2.1.3.2 steps 1–5, without the final comparison). Throws
 * PROOF_INVALID when the proof cannot belong to such a tree (index ≥ size, wrong length).
 */
export function rootFromInclusion(index: number, size: number, leafHash: Hash, proof: readonly Hash[], h: Hasher = pureHasher): Hash {
  checkCount(index, 'index');
  checkCount(size, 'tree size');
  if (index >= size) fail(`index ${index} is not below the tree size ${size}`);
  checkHash(leafHash, 'the leaf hash');
  proof.forEach((p, i) => checkHash(p, `inclusion proof element ${i}`));
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) fail(`the inclusion proof has ${proof.length} elements, too many for index ${index} in a tree of ${size}`);
    if (odd(fn) || fn === sn) {
      r = h.node(p, r);
      // The rest of a right edge has no sibling: climb until this node is a right child again.
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = h.node(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) fail(`the inclusion proof has ${proof.length} elements, too few for index ${index} in a tree of ${size}`);
  return r;
}

/** Verifies an RFC 6962 §2.1.1 inclusion proof against `root` (RFC 9162 §2.1.3.2); throws PROOF_INVALID. */
export function verifyInclusion(index: number, size: number, leafHash: Hash, proof: readonly Hash[], root: Hash, h: Hasher = pureHasher): void {
  checkHash(root, 'the root');
  const computed = rootFromInclusion(index, size, leafHash, proof, h);
  if (!hashEquals(computed, root)) fail(`the inclusion proof for index ${index} does not lead to the root of the tree of size ${size}`);
}

/**
 * Verifies an RFC 6962 §2.1.2 consistency proof that the tree of `size1` leaves with `root1` is a
 * prefix of the tree of `size2` leaves with `root2` (RFC 9162 §2.1.4.2). As the RFC 9162 proof is
 * defined for 0 < size1 < size2 only: size1 == size2 needs an empty proof and equal roots, and
 * size1 == 0 is rejected (every tree extends the empty one, so such a "proof" proves nothing and
 * a caller relying on it has a bug). Throws PROOF_INVALID.
 */
export function verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[], h: Hasher = pureHasher): void {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) fail(`size1 ${size1} is greater than size2 ${size2}: a log does not shrink`);
  if (size1 === 0) fail('a consistency proof from the empty tree proves nothing; size1 must be at least 1');
  if (size1 === size2) {
    if (proof.length !== 0) fail(`sizes are equal (${size1}) but the consistency proof is not empty`);
    if (!hashEquals(root1, root2)) fail(`two different roots for the same tree size ${size1}`);
    return;
  }
  if (proof.length === 0) fail(`empty consistency proof from size ${size1} to ${size2}`);
  checkHash(root1, 'root1');
  checkHash(root2, 'root2');
  proof.forEach((p, i) => checkHash(p, `consistency proof element ${i}`));

  // Step 1: when size1 is a power of two the old root is itself a node of the new tree.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Steps 2–3.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) [fn, sn] = [half(fn), half(sn)];
  // Step 4.
  let fr = path[0];
  let sr = path[0];
  // Step 5.
  for (const c of path.slice(1)) {
    if (sn === 0) fail(`the consistency proof from ${size1} to ${size2} has too many elements`);
    if (odd(fn) || fn === sn) {
      fr = h.node(c, fr);
      sr = h.node(c, sr);
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = h.node(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  // Step 6.
  if (sn !== 0) fail(`the consistency proof from ${size1} to ${size2} has too few elements`);
  if (!hashEquals(fr, root1)) fail(`the consistency proof does not lead to the root of the tree of size ${size1}`);
  if (!hashEquals(sr, root2)) fail(`the consistency proof does not lead to the root of the tree of size ${size2}`);
}
