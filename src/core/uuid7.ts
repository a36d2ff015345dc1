const POOL_SIZE = 16 * 256;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits; sorts by creation time. */
export function uuidv7(now = Date.now()): string {
  // 16 random bytes from a pool refilled 4 KiB at a time (one call per 256 ids), with WebCrypto's
  // getRandomValues (global in Node 20 and in browsers) so that the SDK's signing runs in both.
  if (offset >= POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  const b = pool;
  const o = offset;
  offset += 16;
  // 48-bit big-endian milliseconds: beyond 32 bits, so the high part by division.
  const hi = Math.floor(now / 0x100000000);
  const lo = now >>> 0;
  const t = HEX[(hi >>> 8) & 255] + HEX[hi & 255] + HEX[lo >>> 24] + HEX[(lo >>> 16) & 255] + HEX[(lo >>> 8) & 255] + HEX[lo & 255];
  return `${t.slice(0, 8)}-${t.slice(8)}-${HEX[0x70 | (b[o + 6] & 0x0f)]}${HEX[b[o + 7]]}-${HEX[0x80 | (b[o + 8] & 0x3f)]}${HEX[b[o + 9]]}-${HEX[b[o + 10]]}${HEX[b[o + 11]]}${HEX[b[o + 12]]}${HEX[b[o + 13]]}${HEX[b[o + 14]]}${HEX[b[o + 15]]}`;
}
