import { hashEquals, toHex, TreeBuilder, type Hasher } from '../../core/tlog/index.js';
import { ZERO_HASH } from '../../core/hash.js';
import type { LogStore, TileRow } from '../../store/port.js';
import { TileEdge } from '../tile-edge.js';
import { TILE_WIDTH } from '../tile-layout.js';

/** Records read per page while scanning a log. */
const PAGE = 8192;

export interface ScanProblem {
  /** The first bad record index, or null when the problem is not tied to one record. */
  readonly index: number | null;
  readonly message: string;
}

export interface ScanResult {
  readonly records: number;
  /** Root hash (hex) of the log's tree at each size asked for that the log reaches. */
  readonly roots: Map<number, string>;
  readonly problem: ScanProblem | null;
}

/**
 * Reads a whole log from the store once and checks it from first principles: each record's bytes
 * against its stored leaf hash, its index, its `prev` link, its tenant and scroll; and each leaf hash
 * against the stored Merkle tiles, which are rebuilt from the records and compared tile by tile.
 * Collects the tree root at every size in `rootSizes` (checkpoints and anchors are checked against
 * them by the caller). Stops at the first bad record: everything after it is suspect anyway.
 */
export async function scanLog(
  store: Pick<LogStore, 'readLedger' | 'getTile'>,
  tenant: string,
  scroll: string,
  treeSize: number,
  rootSizes: ReadonlySet<number>,
  hasher: Hasher,
  progress: (records: number) => void,
): Promise<ScanResult> {
  const roots = new Map<number, string>();
  const tree = new TreeBuilder(hasher);
  const edge = new TileEdge(tenant, scroll, hasher);
  if (rootSizes.has(0)) roots.set(0, toHex(tree.root()));
  /** Partial tiles seen so far, compared at the end (a partial tile's last state is the stored one). */
  const partials = new Map<string, TileRow>();
  let prev = ZERO_HASH;
  let i = 0;
  const fail = (index: number | null, message: string): ScanResult => ({ records: i, roots, problem: { index, message } });
  for (;;) {
    const rows = await store.readLedger(tenant, scroll, i, PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.index !== i) return fail(i, `record ${i} is missing (the next stored record is ${row.index}): records were deleted or reordered`);
      const leafHash = hasher.leaf(row.leaf);
      if (toHex(leafHash) !== row.leafHash) return fail(i, `record ${i}: its bytes do not hash to its stored leaf hash (the record was changed)`);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(row.leaf.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(i, `record ${i}: its bytes are not JSON`);
      }
      if (record.index !== i) return fail(i, `record ${i}: it says index ${String(record.index)} (records were reordered)`);
      if (record.tenant !== tenant || record.scroll !== scroll) return fail(i, `record ${i}: it belongs to ${String(record.tenant)}/${String(record.scroll)}, not ${tenant}/${scroll}`);
      if (record.prev !== prev) {
        // If the tree still holds the hash this record links to, it was the previous record that changed.
        if (i > 0 && i - 1 < treeSize && (await loggedHash(store, tenant, scroll, i - 1)) === record.prev) {
          return fail(i - 1, `record ${i - 1}: its leaf hash differs from the one in the Merkle tree and the one record ${i} links to: the record was changed after it was logged`);
        }
        return fail(i, `record ${i}: prev does not link to record ${i - 1} (the hash chain is broken)`);
      }
      prev = row.leafHash;
      tree.append(leafHash);
      if (i < treeSize) {
        edge.append(leafHash);
        if ((i + 1) % TILE_WIDTH === 0) {
          const bad = await compareTiles(store, tenant, scroll, edge.takeChanged(), partials);
          if (bad) return fail(bad.index, bad.message);
        }
      }
      i++;
      if (rootSizes.has(i)) roots.set(i, toHex(tree.root()));
    }
    progress(rows.length);
  }
  if (i < treeSize) return fail(i, `the log has ${i} records but its tree covers ${treeSize}: records were deleted (truncation)`);
  const bad = await compareTiles(store, tenant, scroll, edge.takeChanged(), partials, true);
  if (bad) return fail(bad.index, bad.message);
  return { records: i, roots, problem: null };
}

/**
 * Compares rebuilt tiles with the stored ones: full tiles as they complete, partial tiles at the end
 * (their last state is what the store holds). A level-0 mismatch names the exact record.
 */
async function compareTiles(
  store: Pick<LogStore, 'getTile'>,
  tenant: string,
  scroll: string,
  changed: readonly TileRow[],
  partials: Map<string, TileRow>,
  final = false,
): Promise<ScanProblem | null> {
  const rows: TileRow[] = [];
  for (const t of changed) {
    const key = `${t.level}/${t.n}`;
    if (t.width === TILE_WIDTH) {
      partials.delete(key);
      rows.push(t);
    } else partials.set(key, t);
  }
  if (final) rows.push(...partials.values());
  for (const t of rows) {
    const stored = await store.getTile(tenant, scroll, t.level, t.n);
    const first = t.n * TILE_WIDTH ** (t.level + 1);
    if (!stored || stored.width < t.width) return { index: first, message: `tile ${t.level}/${t.n} is missing or narrower than ${t.width}: the tree was truncated` };
    for (let j = 0; j < t.width; j++) {
      if (!hashEquals(t.nodes.subarray(j * 32, j * 32 + 32), stored.nodes.subarray(j * 32, j * 32 + 32))) {
        const index = first + j * TILE_WIDTH ** t.level;
        return t.level === 0
          ? { index, message: `record ${index}: its leaf hash differs from the one in the Merkle tree (tile 0/${t.n}): the record was changed after it was logged` }
          : { index, message: `tile ${t.level}/${t.n} differs from the tree rebuilt from the records, from index ${index} on` };
      }
    }
  }
  return null;
}

/** The leaf hash the tree holds for record `index` (lowercase hex), or null when its tile is missing. */
async function loggedHash(store: Pick<LogStore, 'getTile'>, tenant: string, scroll: string, index: number): Promise<string | null> {
  const tile = await store.getTile(tenant, scroll, 0, Math.floor(index / TILE_WIDTH));
  const j = index % TILE_WIDTH;
  if (!tile || tile.width <= j) return null;
  return toHex(tile.nodes.subarray(j * 32, j * 32 + 32));
}
