/**
 * A Bloom filter of the idempotency keys that have a stored outcome, so that the common case, a new
 * requestId, is answered "absent" without a store read. A "maybe" is checked in the store, so false
 * positives cost a read and nothing else. It can say "absent" truthfully only if it saw every stored
 * key: writ builds it from the store at start-up and adds each outcome as it is committed, which
 * holds when writ is the store's only writer.
 *
 * Two generations, each filled for one retention period: a key stays in the filter for at least the
 * retention, and outcomes pruned from the store leave the filter within two periods.
 */
export const DEFAULT_BITS = 1 << 24;
const HASHES = 6;

export class KnownKeys {
  private current: Uint32Array;
  private previous: Uint32Array;
  private since: number;

  constructor(
    private readonly retentionMs: number,
    now: number,
    private readonly bits = DEFAULT_BITS,
  ) {
    this.current = new Uint32Array(bits / 32);
    this.previous = new Uint32Array(bits / 32);
    this.since = now;
  }

  add(tenant: string, actor: string, requestId: string, now: number): void {
    this.rotate(now);
    const [h1, h2] = hashes(`${tenant}\n${actor}\n${requestId}`);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.bits;
      this.current[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  /** False when the key certainly has no stored outcome. */
  mayContain(tenant: string, actor: string, requestId: string, now: number): boolean {
    this.rotate(now);
    const [h1, h2] = hashes(`${tenant}\n${actor}\n${requestId}`);
    return this.has(this.current, h1, h2) || this.has(this.previous, h1, h2);
  }

  private has(set: Uint32Array, h1: number, h2: number): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.bits;
      if ((set[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  private rotate(now: number): void {
    if (now - this.since < this.retentionMs) return;
    this.previous = this.current;
    this.current = new Uint32Array(this.bits / 32);
    this.since = now;
  }
}

/** Two independent 32-bit FNV-1a hashes (different offset bases), for double hashing. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  // h2 odd, so the probe sequence visits distinct bits.
  return [a >>> 0, (b | 1) >>> 0];
}
