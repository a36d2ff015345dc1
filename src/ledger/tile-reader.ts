import { consistencyRanges, emptyRoot, inclusionRanges, type Hash, type Hasher } from '../core/tlog/index.js';
import type { LogStore, TileRow } from '../store/port.js';
import { HASH_SIZE, nodeAddress, slotOffset } from './tile-layout.js';

/** Full tiles kept in memory (16 KiB each): 4,096 cover the level-0 tiles of a million leaves. */
export const DEFAULT_TILE_CACHE = 4096;

/**
 * Reads any node of a log's tree from stored tiles, and builds RFC 6962 proofs from them: each proof
 * hash is a perfect subtree (one slot of one tile) or, on the right edge, a combination of at most
 * log2(n) of them. Full tiles never change and are cached; a partial tile is cached with its width
 * and read again only when a node beyond that width is asked for.
 */
export class TileReader {
  private readonly cache = new Map<string, TileRow>();
  /**
   * Tile reads under way. A proof asks for all its nodes at once (about 20 in a million leaves), and
   * they lie in three or four tiles: without this, each node of an uncached tile was a read of 16 KiB
   * of its own, so a cold proof cost several times more (see docs/benchmarks.md, "proof").
   */
  private readonly loading = new Map<string, Promise<TileRow | null>>();

  constructor(
    private readonly store: Pick<LogStore, 'getTile'>,
    private readonly hasher: Hasher,
    private readonly cacheMax = DEFAULT_TILE_CACHE,
  ) {}

  /** Hash of the perfect subtree of 2^k leaves starting at leaf i·2^k. */
  async node(tenant: string, scroll: string, k: number, i: number): Promise<Hash> {
    const a = nodeAddress(k, i);
    const need = (a.j + 1) << a.s;
    const key = `${tenant}\n${scroll}\n${a.level}\n${a.n}`;
    let tile = this.cache.get(key);
    if (tile && tile.width >= need) {
      // Refresh the entry's place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, tile);
    } else {
      tile = (await this.load(key, tenant, scroll, a.level, a.n, need)) ?? undefined;
      if (!tile || tile.width < need) throw new Error(`the tree of ${tenant}/${scroll} has no node ${k}/${i} (tile ${a.level}/${a.n} missing or too narrow)`);
      this.remember(key, tile);
    }
    const at = slotOffset(a.s, a.j);
    return tile.nodes.slice(at, at + HASH_SIZE);
  }

  /** The stored tile, read once however many nodes of it are asked for at the same time. */
  private async load(key: string, tenant: string, scroll: string, level: number, n: number, need: number): Promise<TileRow | null> {
    let pending = this.loading.get(key);
    const shared = pending !== undefined;
    if (!pending) {
      const read = this.store.getTile(tenant, scroll, level, n);
      const done = () => {
        if (this.loading.get(key) === read) this.loading.delete(key);
      };
      read.then(done, done);
      this.loading.set(key, read);
      pending = read;
    }
    let tile = await pending;
    // A read that was already under way may have started before the tile grew to the width asked for.
    if (shared && (!tile || tile.width < need)) tile = await this.store.getTile(tenant, scroll, level, n);
    return tile;
  }

  private remember(key: string, tile: TileRow): void {
    const had = this.cache.get(key);
    this.cache.delete(key);
    // Reads that overlapped may finish out of order: keep the widest state of the tile.
    this.cache.set(key, had && had.width > tile.width ? had : tile);
    if (this.cache.size > this.cacheMax) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** RFC 6962 Merkle Tree Hash of leaves [start, end). */
  async rangeHash(tenant: string, scroll: string, start: number, end: number): Promise<Hash> {
    const n = end - start;
    if (n <= 0) return emptyRoot();
    // A perfect, aligned subtree is one stored node.
    if ((n & (n - 1)) === 0 && start % n === 0 && n <= 2 ** 52) return this.node(tenant, scroll, Math.log2(n), start / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    const left = await this.rangeHash(tenant, scroll, start, start + k);
    const right = await this.rangeHash(tenant, scroll, start + k, end);
    return this.hasher.node(left, right);
  }

  root(tenant: string, scroll: string, size: number): Promise<Hash> {
    return this.rangeHash(tenant, scroll, 0, size);
  }

  /** RFC 6962 §2.1.1 audit path of leaf `index` in the tree of `size` leaves. */
  inclusionProof(tenant: string, scroll: string, index: number, size: number): Promise<Hash[]> {
    if (!(index >= 0 && index < size)) throw new RangeError(`index ${index} is not in a tree of size ${size}`);
    return Promise.all(inclusionRanges(index, size).map(([s, e]) => this.rangeHash(tenant, scroll, s, e)));
  }

  /** RFC 6962 §2.1.2 consistency proof between tree sizes size1 <= size2. */
  consistencyProof(tenant: string, scroll: string, size1: number, size2: number): Promise<Hash[]> {
    if (!(size1 >= 0 && size1 <= size2)) throw new RangeError(`no consistency proof from size ${size1} to ${size2}`);
    return Promise.all(consistencyRanges(size1, size2).map(([s, e]) => this.rangeHash(tenant, scroll, s, e)));
  }
}

