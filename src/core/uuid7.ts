const POOL_SIZE = 16 * 256;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * 16 random bytes, drawn from a pool refilled 4 KiB at a time (one call per 256 ids). WebCrypto's
 * getRandomValues (global in Node 20 and in browsers) so that the SDK's signing runs in both.
 */
function random16(): Uint8Array {
  if (offset >= POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  const b = pool.slice(offset, offset + 16);
  offset += 16;
  return b;
}

/** RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits; sorts by creation time. */
export function uuidv7(now = Date.now()): string {
  const b = random16();
  // 48-bit big-endian milliseconds (beyond 32 bits, so no bitwise operators on the whole number).
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  let h = '';
  for (let i = 0; i < 16; i++) h += HEX[b[i]];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
