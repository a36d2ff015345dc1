/**
 * How a log's Merkle tree is cut into tiles (C2SP tlog-tiles): a tile at level L holds up to 256
 * hashes of tree level 8·L, so it is the bottom row of a subtree of height 8. writ stores each tile
 * with the seven rows above its bottom row too (the nodes inside the tile), so that any node of the
 * tree is one row read away and a proof needs no hashing:
 *
 *   row s (0..7) holds 256 >> s hashes; row s starts at slot 512 - (512 >> s);
 *   slots 0..255 are the C2SP tile itself, 510 slots (16,320 bytes) in all.
 *
 * A node of row s at position j exists once the tile's width reaches (j + 1) << s.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;
export const TILE_SLOTS = 510;
export const TILE_BYTES = TILE_SLOTS * HASH_SIZE;

/** Byte offset of the node at row s, position j of a tile. */
export function slotOffset(s: number, j: number): number {
  return (512 - (512 >> s) + j) * HASH_SIZE;
}

/** Where tree node (level k, index i) lives: tile level, tile index, row and position inside. */
export function nodeAddress(k: number, i: number): { level: number; n: number; s: number; j: number } {
  const level = Math.floor(k / TILE_HEIGHT);
  const s = k % TILE_HEIGHT;
  const perTile = TILE_WIDTH >> s;
  return { level, n: Math.floor(i / perTile), s, j: i % perTile };
}

/** 256^level, the number of leaves under one hash of a level-`level` tile. */
export function leavesPerHash(level: number): number {
  return TILE_WIDTH ** level;
}

/** Width of the rightmost (partial) tile of a level for a tree of `size` leaves; 0 when there is none. */
export function partialWidth(size: number, level: number): number {
  return Math.floor(size / leavesPerHash(level)) % TILE_WIDTH;
}

/** C2SP tlog-tiles index encoding: 1234067 → "x001/x234/067". */
export function encodeTileIndex(n: number): string {
  const parts: string[] = [];
  let rest = n;
  do {
    parts.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

/** A parsed tile path below `/tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`. Null when malformed. */
export function parseTilePath(path: string): { level: number | 'entries'; n: number; width: number | null } | null {
  const m = /^(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(path);
  if (!m) return null;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > 63) return null;
  const digits = m[2].split('/').filter(Boolean).map((p) => p.slice(1)).concat(m[3]);
  // Leading zero groups are not canonical ("x000/001" is written "001").
  if (digits.length > 1 && digits[0] === '000') return null;
  if (digits.length > 5) return null;
  const n = Number(digits.join(''));
  const width = m[4] === undefined ? null : Number(m[4]);
  if (width !== null && width > 255) return null;
  return { level, n, width };
}
