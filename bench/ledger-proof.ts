import { fromHex, TreeBuilder, verifyConsistency, verifyInclusion, type Hash } from '../src/core/tlog/index.js';
import { nodeHasher } from '../src/ledger/node-hasher.js';
import { TileReader } from '../src/ledger/tile-reader.js';
import type { BenchLog } from './ledger-log.js';
import { percentile, round } from './support.js';

/** A small seeded PRNG (mulberry32), so that every run asks for the same proofs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Timings {
  p50: number;
  p99: number;
}

export interface ProofFigures {
  readonly inclusion_us_p50: number;
  readonly inclusion_us_p99: number;
  readonly consistency_us_p50: number;
  readonly consistency_us_p99: number;
  readonly cold: Record<string, number>;
  readonly samples: { warm: number; cold: number };
}

/**
 * Random RFC 6962 proofs from the stored tiles through TileReader: inclusion of a random leaf in
 * the whole tree, and consistency between two random sizes. Each proof is timed alone, then
 * verified with verifyInclusion/verifyConsistency (outside the timed part) against the signed
 * checkpoint's root, the leaf hashes kept aside while building, and roots that TreeBuilder computes
 * from those leaf hashes alone; a proof that does not verify aborts the benchmark. "warm": one
 * TileReader whose cache holds every tile of the log; "cold": a new TileReader for each proof, so
 * every tile is read from SQLite (whose own pages are in memory by then).
 */
export async function benchProofs(log: BenchLog, warmSamples: number, coldSamples: number): Promise<ProofFigures> {
  const { store, tenant, scroll, size } = log;
  const random = prng(6962);
  const below = (n: number) => Math.floor(random() * n);
  const leaf = (i: number) => new Uint8Array(log.leafHashes.subarray(i * 32, i * 32 + 32));
  const root = fromHex(log.checkpoint.root);

  const pairs = (n: number) =>
    Array.from({ length: n }, () => {
      const to = 2 + below(size - 1);
      return [1 + below(to - 1), to] as const;
    });
  const warmPairs = pairs(warmSamples);
  const coldPairs = pairs(coldSamples);
  const roots = rootsAt(log, [...warmPairs, ...coldPairs].flat());
  if (roots.get(size) === undefined || Buffer.compare(roots.get(size)!, root) !== 0) throw new Error('the signed checkpoint root is not the root of the records');

  const inclusion = async (reader: () => TileReader, n: number): Promise<Timings> => {
    const out: number[] = [];
    for (let k = 0; k < n; k++) {
      const index = below(size);
      const r = reader();
      const t = process.hrtime.bigint();
      const proof = await r.inclusionProof(tenant, scroll, index, size);
      out.push(Number(process.hrtime.bigint() - t) / 1e3);
      verifyInclusion(index, size, leaf(index), proof, root, nodeHasher);
    }
    return summary(out);
  };
  const consistency = async (reader: () => TileReader, list: ReadonlyArray<readonly [number, number]>): Promise<Timings> => {
    const out: number[] = [];
    for (const [from, to] of list) {
      const r = reader();
      const t = process.hrtime.bigint();
      const proof = await r.consistencyProof(tenant, scroll, from, to);
      out.push(Number(process.hrtime.bigint() - t) / 1e3);
      verifyConsistency(from, to, roots.get(from)!, roots.get(to)!, proof, nodeHasher);
    }
    return summary(out);
  };

  const warm = new TileReader(store, nodeHasher);
  // Every tile into the cache (the first leaf of each level-0 tile, then proofs reach the levels above).
  for (let i = 0; i < size; i += 256) await warm.node(tenant, scroll, 0, i);
  await inclusion(() => warm, Math.min(2000, warmSamples));
  const warmInclusion = await inclusion(() => warm, warmSamples);
  const warmConsistency = await consistency(() => warm, warmPairs);
  const fresh = () => new TileReader(store, nodeHasher);
  const coldInclusion = await inclusion(fresh, coldSamples);
  const coldConsistency = await consistency(fresh, coldPairs);
  return {
    inclusion_us_p50: warmInclusion.p50,
    inclusion_us_p99: warmInclusion.p99,
    consistency_us_p50: warmConsistency.p50,
    consistency_us_p99: warmConsistency.p99,
    cold: { inclusion_us_p50: coldInclusion.p50, inclusion_us_p99: coldInclusion.p99, consistency_us_p50: coldConsistency.p50, consistency_us_p99: coldConsistency.p99 },
    samples: { warm: warmSamples, cold: coldSamples },
  };
}

function summary(us: number[]): Timings {
  us.sort((a, b) => a - b);
  return { p50: round(percentile(us, 50), 1), p99: round(percentile(us, 99), 1) };
}

/** Roots of the tree at the given sizes, from the kept leaf hashes alone (not from the tiles). */
function rootsAt(log: BenchLog, sizes: readonly number[]): Map<number, Hash> {
  const wanted = new Set([...sizes, log.size]);
  const roots = new Map<number, Hash>();
  const tree = new TreeBuilder(nodeHasher);
  for (let i = 0; i < log.size; i++) {
    tree.append(log.leafHashes.subarray(i * 32, i * 32 + 32));
    if (wanted.has(i + 1)) roots.set(i + 1, tree.root());
  }
  return roots;
}
