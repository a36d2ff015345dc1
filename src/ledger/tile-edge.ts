import { emptyRoot, type Hash, type Hasher } from '../core/tlog/index.js';
import type { TileRow } from '../store/port.js';
import { HASH_SIZE, partialWidth, slotOffset, TILE_BYTES, TILE_HEIGHT, TILE_WIDTH } from './tile-layout.js';

interface EdgeTile {
  n: number;
  width: number;
  nodes: Uint8Array;
}

/**
 * The right edge of one log's tree: the rightmost (partial) tile of every level, in memory.
 * Appending a leaf hash writes it into the level-0 tile and completes the nodes above it inside the
 * tile; a tile that fills up hands its root to the level above and is never touched again. So an
 * append costs O(1) amortised (about two hash operations) whatever the size of the log, and every
 * perfect subtree of the current tree's root decomposition lies in these tiles.
 */
export class TileEdge {
  private readonly levels: EdgeTile[] = [];
  /** Tiles changed since the last takeChanged(), keyed by "level/n". */
  private changed = new Map<string, TileRow>();
  private leaves = 0;

  constructor(
    readonly tenant: string,
    readonly scroll: string,
    private readonly hasher: Hasher,
  ) {}

  /** Rebuilds the edge of a tree of `size` leaves from its stored partial tiles. */
  static async load(tenant: string, scroll: string, size: number, hasher: Hasher, getTile: (level: number, n: number) => Promise<TileRow | null>): Promise<TileEdge> {
    const edge = new TileEdge(tenant, scroll, hasher);
    edge.leaves = size;
    for (let level = 0; TILE_WIDTH ** level <= size; level++) {
      const width = partialWidth(size, level);
      const n = Math.floor(size / TILE_WIDTH ** (level + 1));
      const tile: EdgeTile = { n, width, nodes: new Uint8Array(TILE_BYTES) };
      if (width > 0) {
        const row = await getTile(level, n);
        if (!row || row.width < width) throw new Error(`tile ${level}/${n} of ${tenant}/${scroll} is missing or narrower than ${width} (size ${size})`);
        tile.nodes.set(row.nodes.subarray(0, TILE_BYTES));
      }
      edge.levels[level] = tile;
    }
    return edge;
  }

  get size(): number {
    return this.leaves;
  }

  append(leafHash: Hash): void {
    this.appendAt(0, leafHash);
    this.leaves++;
  }

  private appendAt(level: number, hash: Hash): void {
    const tile = (this.levels[level] ??= { n: 0, width: 0, nodes: new Uint8Array(TILE_BYTES) });
    const nodes = tile.nodes;
    nodes.set(hash, slotOffset(0, tile.width));
    const width = ++tile.width;
    for (let s = 1; s < TILE_HEIGHT && width % (1 << s) === 0; s++) {
      const j = (width >> s) - 1;
      nodes.set(this.nodeOf(nodes, s - 1, 2 * j, 2 * j + 1), slotOffset(s, j));
    }
    this.changed.set(`${level}/${tile.n}`, this.row(level, tile));
    if (width === TILE_WIDTH) {
      const root = this.nodeOf(nodes, TILE_HEIGHT - 1, 0, 1);
      this.levels[level] = { n: tile.n + 1, width: 0, nodes: new Uint8Array(TILE_BYTES) };
      this.appendAt(level + 1, root);
    }
  }

  private nodeOf(nodes: Uint8Array, s: number, left: number, right: number): Hash {
    const l = nodes.subarray(slotOffset(s, left), slotOffset(s, left) + HASH_SIZE);
    const r = nodes.subarray(slotOffset(s, right), slotOffset(s, right) + HASH_SIZE);
    return this.hasher.node(l, r);
  }

  private row(level: number, tile: EdgeTile): TileRow {
    return { tenant: this.tenant, scroll: this.scroll, level, n: tile.n, width: tile.width, nodes: tile.nodes };
  }

  /** The tiles written since the last call (copies, so later appends do not change them). */
  takeChanged(): TileRow[] {
    const rows = [...this.changed.values()].map((r) => (r.width === TILE_WIDTH ? r : { ...r, nodes: r.nodes.slice() }));
    this.changed = new Map();
    return rows;
  }

  /**
   * The hash of the perfect subtree at tree level k, index i, if it lies in the edge (every subtree of
   * the root decomposition does); null otherwise.
   */
  node(k: number, i: number): Hash | null {
    const level = Math.floor(k / TILE_HEIGHT);
    const s = k % TILE_HEIGHT;
    const tile = this.levels[level];
    if (!tile) return null;
    const perTile = TILE_WIDTH >> s;
    if (Math.floor(i / perTile) !== tile.n) return null;
    const j = i % perTile;
    if ((j + 1) << s > tile.width) return null;
    return tile.nodes.slice(slotOffset(s, j), slotOffset(s, j) + HASH_SIZE);
  }

  /** RFC 6962 Merkle Tree Hash of the whole current tree (SHA-256 of nothing when empty). */
  root(): Hash {
    if (this.leaves === 0) return emptyRoot();
    // The root decomposition: perfect subtrees for the one bits of the size, largest (leftmost) first.
    const parts: Hash[] = [];
    let start = 0;
    for (let k = 52; k >= 0; k--) {
      const span = 2 ** k;
      if (this.leaves - start >= span) {
        const h = this.node(k, start / span);
        if (!h) throw new Error(`edge is missing node ${k}/${start / span}`);
        parts.push(h);
        start += span;
      }
    }
    let acc = parts[parts.length - 1];
    for (let p = parts.length - 2; p >= 0; p--) acc = this.hasher.node(parts[p], acc);
    return acc;
  }
}
