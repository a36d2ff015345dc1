import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WritError } from '../src/core/errors.js';
import { fromBase64, fromHex, toBase64, toHex } from '../src/core/tlog/base64.js';
import { emptyRoot, hashEquals, pureHasher, type Hash } from '../src/core/tlog/hasher.js';
import {
  MemoryTree,
  TreeBuilder,
  consistencyRanges,
  inclusionRanges,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
} from '../src/core/tlog/merkle.js';
import { sha256 } from '../src/core/tlog/sha256.js';
import { nodeHasher } from '../src/ledger/node-hasher.js';
import { packageRoot } from '../src/util/package-root.js';

const VECTORS = join(packageRoot(), '..', 'shared', 'vectors', 'rfc6962');

const isProofInvalid = (err: unknown): boolean => err instanceof WritError && err.code === 'PROOF_INVALID';
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const nodeSha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? jsonFiles(path) : name.endsWith('.json') ? [path] : [];
    });
}

function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const out = h.slice();
  out[Math.floor(bit / 8) % out.length] ^= 1 << (bit % 8);
  return out;
}

/** 5000 leaves hashed with node:crypto; proofs are taken from prefixes and checked with the pure hasher. */
const LEAVES: Hash[] = Array.from({ length: 5000 }, (_, i) => nodeHasher.leaf(new TextEncoder().encode(`leaf ${i}`)));
const TREE = new MemoryTree(LEAVES, nodeHasher);

describe('sha256 and the hashers', () => {
  it('match node:crypto on inputs of every length from 0 to 300 bytes and on a large input', () => {
    for (let len = 0; len <= 300; len++) {
      const data = randomBytes(len);
      assert.equal(toHex(sha256(data)), createHash('sha256').update(data).digest('hex'), `length ${len}`);
    }
    const large = randomBytes(1 << 20);
    assert.ok(hashEquals(sha256(large), nodeSha256(large)));
  });

  it('give the FIPS 180-4 example digests of "abc" and of the empty string', () => {
    assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(toHex(emptyRoot()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agree between the pure and the node:crypto hasher for leaves and nodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (data, other) => {
        assert.deepEqual(pureHasher.leaf(data), nodeHasher.leaf(data));
        const left = nodeSha256(data);
        assert.deepEqual(pureHasher.node(left, other), nodeHasher.node(left, other));
      }),
      { numRuns: 200 },
    );
  });
});

describe('base64 and hex', () => {
  it('round-trip any bytes and spell them as Buffer does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
        assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
        assert.deepEqual(fromHex(toHex(bytes)), bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('accept a string exactly when it is the canonical encoding of its bytes', () => {
    const chars = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', '=', '=', '=', '-', '_', ' ', '\n', 'é'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 12 }), (parts) => {
        const s = parts.join('');
        const canonical = Buffer.from(s, 'base64').toString('base64') === s;
        let decoded: Uint8Array | null = null;
        try {
          decoded = fromBase64(s);
        } catch (err) {
          assert.ok(isProofInvalid(err), `unexpected error ${String(err)}`);
        }
        assert.equal(decoded !== null, canonical, `${JSON.stringify(s)}: canonical=${canonical}`);
        if (decoded) assert.deepEqual(decoded, new Uint8Array(Buffer.from(s, 'base64')));
      }),
      { numRuns: 2000 },
    );
  });

  it('reject padding in the middle, missing padding, non-zero trailing bits, the URL alphabet and whitespace', () => {
    for (const bad of ['A', 'AA', 'AA=', 'AB==', 'AAB=', 'AA==AA==', 'A===', '====', '-_8=', 'AA== ', ' AA==', 'AA\n==']) {
      assert.throws(() => fromBase64(bad), isProofInvalid, JSON.stringify(bad));
    }
    assert.deepEqual(fromBase64(''), new Uint8Array(0));
    assert.deepEqual(fromBase64('AA=='), Uint8Array.of(0));
  });

  it('decode lowercase hex only', () => {
    assert.deepEqual(fromHex('00ff10'), Uint8Array.of(0, 255, 16));
    for (const bad of ['0', 'FF', 'zz', '0x00', ' 00']) assert.throws(() => fromHex(bad), isProofInvalid, bad);
  });
});

describe('the RFC 6962 vectors of shared/vectors/rfc6962', () => {
  if (!existsSync(VECTORS)) {
    it('are absent, so they are skipped', (t) => t.skip(`${VECTORS} absent`));
    return;
  }

  it('include the inclusion, consistency and additional cases', () => {
    const files = jsonFiles(VECTORS).map((f) => relative(VECTORS, f));
    for (const prefix of ['inclusion/', 'consistency/', 'inclusion/additional/', 'consistency/additional/']) {
      assert.ok(files.some((f) => f.startsWith(prefix)), `no vectors under ${prefix}`);
    }
  });

  for (const file of jsonFiles(join(VECTORS, 'inclusion'))) {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean };
    it(`${v.wantErr ? 'reject' : 'verify'} inclusion ${relative(VECTORS, file)} (${v.desc})`, () => {
      const run = () => verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
      if (v.wantErr) assert.throws(run, isProofInvalid);
      else run();
    });
  }

  for (const file of jsonFiles(join(VECTORS, 'consistency'))) {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean };
    it(`${v.wantErr ? 'reject' : 'verify'} consistency ${relative(VECTORS, file)} (${v.desc})`, () => {
      const run = () => verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), (v.proof ?? []).map(b64));
      if (v.wantErr) assert.throws(run, isProofInvalid);
      else run();
    });
  }

  it("give the README's roots for the first 1 to 8 reference leaves, with MemoryTree and TreeBuilder", () => {
    const readme = readFileSync(join(VECTORS, 'README.md'), 'utf8');
    const roots = [...readme.matchAll(/^\| (\d+) \| ([A-Za-z0-9+/=]{44}) \|$/gm)].map((m) => [Number(m[1]), m[2]] as const);
    assert.equal(roots.length, 8, 'the README should list the roots for n = 1..8');
    // The eight Certificate Transparency reference leaves (hex), as the README lists them.
    const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => fromHex(h));
    const tree = new MemoryTree(data.map((d) => pureHasher.leaf(d)));
    const builder = new TreeBuilder();
    for (const [n, root] of roots) {
      while (builder.size < n) builder.append(pureHasher.leaf(data[builder.size]));
      assert.equal(toBase64(tree.root(n)), root, `MemoryTree root of ${n}`);
      assert.equal(toBase64(builder.root()), root, `TreeBuilder root of ${n}`);
    }
  });
});

describe('Merkle trees', () => {
  it('give SHA-256 of the empty string as the root of the empty tree', () => {
    assert.equal(toBase64(new TreeBuilder().root()), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    assert.equal(toBase64(new MemoryTree([]).root()), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('agree between TreeBuilder and MemoryTree at every size, whatever the hasher', () => {
    const builder = new TreeBuilder(nodeHasher);
    const small = new MemoryTree(LEAVES.slice(0, 300));
    for (let n = 1; n <= 300; n++) {
      builder.append(LEAVES[n - 1]);
      assert.deepEqual(builder.root(), TREE.root(n), `size ${n}`);
      assert.deepEqual(small.root(n), TREE.root(n), `size ${n}`);
    }
  });

  it('give the proofs of the recursive RFC 6962 §2.1.1 and §2.1.2 definitions', () => {
    const leaves = LEAVES.slice(0, 40);
    const mth = (d: Hash[]): Hash => {
      if (d.length === 1) return d[0];
      const k = 2 ** Math.ceil(Math.log2(d.length) - 1);
      return nodeHasher.node(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    const split = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
    const path = (m: number, d: Hash[]): Hash[] => {
      if (d.length === 1) return [];
      const k = split(d.length);
      return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
    };
    const subproof = (m: number, d: Hash[], b: boolean): Hash[] => {
      if (m === d.length) return b ? [] : [mth(d)];
      const k = split(d.length);
      return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
    };
    for (let n = 1; n <= leaves.length; n++) {
      for (let m = 0; m < n; m++) assert.deepEqual(TREE.inclusionProof(m, n), path(m, leaves.slice(0, n)), `PATH(${m}, D[${n}])`);
      for (let m = 1; m < n; m++) assert.deepEqual(TREE.consistencyProof(m, n), subproof(m, leaves.slice(0, n), true), `PROOF(${m}, D[${n}])`);
      assert.deepEqual(consistencyRanges(n, n), []);
      assert.deepEqual(consistencyRanges(0, n), []);
    }
  });

  it('refuse out-of-range arguments with PROOF_INVALID', () => {
    assert.throws(() => inclusionRanges(5, 5), isProofInvalid);
    assert.throws(() => inclusionRanges(-1, 5), isProofInvalid);
    assert.throws(() => inclusionRanges(0.5, 5), isProofInvalid);
    assert.throws(() => consistencyRanges(6, 5), isProofInvalid);
    assert.throws(() => TREE.root(5001), isProofInvalid);
    assert.throws(() => TREE.rangeHash(3, 3), isProofInvalid);
    assert.throws(() => new TreeBuilder().append(new Uint8Array(31)), isProofInvalid);
    assert.throws(() => verifyInclusion(0, Number.MAX_SAFE_INTEGER + 1, LEAVES[0], [], LEAVES[0]), isProofInvalid);
  });
});

describe('Merkle proofs on random trees of 1 to 5000 leaves', () => {
  const sized = fc.integer({ min: 1, max: 5000 }).chain((size) => fc.record({ size: fc.constant(size), index: fc.integer({ min: 0, max: size - 1 }) }));

  it('verify every inclusion proof, and fail with any single bit flipped in the proof, root or leaf hash', () => {
    fc.assert(
      fc.property(sized, fc.nat(), fc.nat(255), ({ size, index }, which, bit) => {
        const proof = TREE.inclusionProof(index, size);
        const root = TREE.root(size);
        assert.deepEqual(proof, inclusionRanges(index, size).map(([s, e]) => TREE.rangeHash(s, e)));
        verifyInclusion(index, size, LEAVES[index], proof, root);
        assert.deepEqual(rootFromInclusion(index, size, LEAVES[index], proof, nodeHasher), root);
        const target = which % (proof.length + 2);
        if (target < proof.length) {
          const bad = proof.map((p, i) => (i === target ? flipBit(p, bit) : p));
          assert.throws(() => verifyInclusion(index, size, LEAVES[index], bad, root), isProofInvalid);
        } else if (target === proof.length) {
          assert.throws(() => verifyInclusion(index, size, LEAVES[index], proof, flipBit(root, bit)), isProofInvalid);
        } else {
          assert.throws(() => verifyInclusion(index, size, flipBit(LEAVES[index], bit), proof, root), isProofInvalid);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('fail an inclusion proof given with another index or another tree size', () => {
    fc.assert(
      fc.property(sized, fc.integer({ min: 1, max: 5000 }), fc.nat(), ({ size, index }, otherSize, otherIndex) => {
        const proof = TREE.inclusionProof(index, size);
        const wrongIndex = (index + 1 + (otherIndex % Math.max(1, size - 1))) % size;
        if (wrongIndex !== index) assert.throws(() => verifyInclusion(wrongIndex, size, LEAVES[wrongIndex], proof, TREE.root(size)), isProofInvalid);
        if (otherSize !== size) assert.throws(() => verifyInclusion(index, otherSize, LEAVES[index], proof, TREE.root(otherSize)), isProofInvalid);
        assert.throws(() => verifyInclusion(index, size, LEAVES[index], [...proof, LEAVES[0]], TREE.root(size)), isProofInvalid);
        if (proof.length > 0) assert.throws(() => verifyInclusion(index, size, LEAVES[index], proof.slice(1), TREE.root(size)), isProofInvalid);
      }),
      { numRuns: 300 },
    );
  });

  it('verify every consistency proof, and fail with any bit flipped, a wrong size or a changed length', () => {
    const sizes = fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(255), fc.integer({ min: 1, max: 5000 }), ([size1, size2], which, bit, other) => {
        const proof = TREE.consistencyProof(size1, size2);
        const [root1, root2] = [TREE.root(size1), TREE.root(size2)];
        assert.deepEqual(proof, consistencyRanges(size1, size2).map(([s, e]) => TREE.rangeHash(s, e)));
        verifyConsistency(size1, size2, root1, root2, proof);
        const target = which % (proof.length + 2);
        const bad = proof.map((p, i) => (i === target ? flipBit(p, bit) : p));
        const [bad1, bad2] = [target === proof.length ? flipBit(root1, bit) : root1, target === proof.length + 1 ? flipBit(root2, bit) : root2];
        assert.throws(() => verifyConsistency(size1, size2, bad1, bad2, bad), isProofInvalid);
        if (other !== size1 && other <= size2) assert.throws(() => verifyConsistency(other, size2, TREE.root(other), root2, proof), isProofInvalid);
        if (other !== size2 && other >= size1) assert.throws(() => verifyConsistency(size1, other, root1, TREE.root(other), proof), isProofInvalid);
        assert.throws(() => verifyConsistency(size1, size2, root1, root2, [...proof, root2]), isProofInvalid);
      }),
      { numRuns: 400 },
    );
  });

  it('fail for every single bit flipped in every proof hash of every small tree', () => {
    for (let size = 1; size <= 8; size++) {
      for (let index = 0; index < size; index++) {
        const proof = TREE.inclusionProof(index, size);
        for (let i = 0; i < proof.length; i++) {
          for (let bit = 0; bit < 256; bit++) {
            const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p));
            assert.throws(() => verifyInclusion(index, size, LEAVES[index], bad, TREE.root(size)), isProofInvalid);
          }
        }
      }
      for (let size1 = 1; size1 < size; size1++) {
        const proof = TREE.consistencyProof(size1, size);
        for (let i = 0; i < proof.length; i++) {
          for (let bit = 0; bit < 256; bit++) {
            const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p));
            assert.throws(() => verifyConsistency(size1, size, TREE.root(size1), TREE.root(size), bad), isProofInvalid);
          }
        }
      }
    }
  });
});
