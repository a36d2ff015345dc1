import { WritError } from '../errors.js';
import { emptyRoot, pureHasher, type Hash, type Hasher } from './hasher.js';
import { checkCount, consistencyRanges, inclusionRanges, isPowerOfTwo, splitPoint } from './merkle-ranges.js';

/**
 * Streaming RFC 6962 §2.1 tree builder: leaf hashes are appended one by one and root() gives the
 * Merkle Tree Hash of the leaves so far. Memory is O(log n): a stack of the perfect subtrees the
 * tree decomposes into (sizes are the binary digits of n, largest first), as in C2SP tlog-tiles'
 * "right edge" of the tree.
 */
export class TreeBuilder {
  readonly #h: Hasher;
  readonly #stack: Array<{ hash: Hash; size: number }> = [];
  #size = 0;

  constructor(h: Hasher = pureHasher) {
    this.#h = h;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends the leaf hash (already SHA-256(0x00 ‖ d)) of the next leaf; amortised O(1) node hashes. */
  append(leafHash: Hash): void {
    if (leafHash.length !== 32) throw new WritError('PROOF_INVALID', `a leaf hash has 32 bytes, got ${leafHash.length}`);
    let top: { hash: Hash; size: number } = { hash: leafHash.slice(), size: 1 };
    // Two perfect subtrees of equal size merge into one of twice the size.
    while (this.#stack.length > 0 && this.#stack[this.#stack.length - 1].size === top.size) {
      const left = this.#stack.pop()!;
      top = { hash: this.#h.node(left.hash, top.hash), size: left.size * 2 };
    }
    this.#stack.push(top);
    this.#size++;
  }

  /** MTH(D[0:size]); SHA-256("") for the empty tree (RFC 6962 §2.1). */
  root(): Hash {
    if (this.#stack.length === 0) return emptyRoot();
    // MTH splits at the largest power of two, so the subtrees fold from the right.
    let r = this.#stack[this.#stack.length - 1].hash;
    for (let i = this.#stack.length - 2; i >= 0; i--) r = this.#h.node(this.#stack[i].hash, r);
    return r.slice();
  }
}

/**
 * An in-memory RFC 6962 tree over all its leaf hashes, for tests and small logs. Every perfect,
 * aligned subtree is hashed once in the constructor (O(n) node hashes, O(n) memory), so any range
 * hash, root or proof afterwards costs O(log² n) node hashes at most.
 */
export class MemoryTree {
  readonly #h: Hasher;
  /** levels[l][i]: hash of the perfect subtree of 2^l leaves starting at leaf i·2^l. */
  readonly #levels: Hash[][];

  constructor(leafHashes: Hash[], h: Hasher = pureHasher) {
    this.#h = h;
    for (const leaf of leafHashes) {
      if (leaf.length !== 32) throw new WritError('PROOF_INVALID', `a leaf hash has 32 bytes, got ${leaf.length}`);
    }
    this.#levels = [leafHashes.map((leaf) => leaf.slice())];
    for (let below = this.#levels[0]; below.length >= 2; ) {
      const level: Hash[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) level.push(h.node(below[i], below[i + 1]));
      this.#levels.push(level);
      below = level;
    }
  }

  get size(): number {
    return this.#levels[0].length;
  }

  /** MTH(D[0:size]) (default: all leaves); SHA-256("") for size 0. */
  root(size: number = this.size): Hash {
    this.#checkSize(size, 'tree size');
    return size === 0 ? emptyRoot() : this.rangeHash(0, size);
  }

  /** MTH(D[start:end]) for 0 ≤ start < end ≤ size (RFC 6962 §2.1). */
  rangeHash(start: number, end: number): Hash {
    checkCount(start, 'start');
    this.#checkSize(end, 'end');
    if (start >= end) throw new WritError('PROOF_INVALID', `empty leaf range [${start}, ${end})`);
    const n = end - start;
    // A perfect subtree aligned on its own size is stored; anything else splits as MTH does.
    if (isPowerOfTwo(n) && start % n === 0) {
      return this.#levels[Math.log2(n)][start / n].slice();
    }
    const mid = start + splitPoint(n);
    return this.#h.node(this.rangeHash(start, mid), this.rangeHash(mid, end));
  }

  /** The RFC 6962 §2.1.1 inclusion proof of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size: number): Hash[] {
    this.#checkSize(size, 'tree size');
    return inclusionRanges(index, size).map(([s, e]) => this.rangeHash(s, e));
  }

  /** The RFC 6962 §2.1.2 consistency proof from the first `size1` to the first `size2` leaves. */
  consistencyProof(size1: number, size2: number): Hash[] {
    this.#checkSize(size2, 'size2');
    return consistencyRanges(size1, size2).map(([s, e]) => this.rangeHash(s, e));
  }

  #checkSize(n: number, what: string): void {
    checkCount(n, what);
    if (n > this.size) throw new WritError('PROOF_INVALID', `${what} ${n} exceeds the ${this.size} leaves of the tree`);
  }
}
