import type { SoakRequest } from './requests.js';
import type { Build } from './signed.js';

/** A small seeded generator (mulberry32): the same seed gives the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Share of each kind in the mix, per thousand requests. */
export const WEIGHTS: Readonly<Record<string, number>> = {
  read: 180,
  'read-other-tenant': 60,
  'read-envelopes': 30,
  'read-huge-numbers': 40,
  traversal: 40,
  'operator-post': 40,
  'malformed-json': 40,
  'duplicate-keys': 20,
  bom: 15,
  'deep-nesting': 10,
  oversized: 3,
  'huge-field': 4,
  unsigned: 20,
  bearer: 40,
  stale: 30,
  'impossible-date': 20,
  'nonce-replay': 30,
  'idempotency-reuse': 30,
  replay: 30,
  'concurrent-retry': 40,
  'bad-signature': 50,
  'unknown-key': 30,
  revoked: 30,
  'cross-tenant': 40,
  'role-less': 120,
  'raw-framing': 8,
};

/** How many workers get the same envelope of `concurrent-retry` before the next one is handed out. */
export const RETRY_FANOUT = 16;

/**
 * Picks the next request in O(1): a kind by weight (a 1000-slot table), then one of the kind's
 * pre-built requests. Pools are rebuilt by `refresh` (signed envelopes carry a timestamp, which
 * must stay inside the server's clock skew for the refusal to be the one each kind is about).
 */
export class Mix {
  private readonly table: string[] = [];
  private pools: Record<string, SoakRequest[]> = {};
  private retries = 0;
  constructor(
    private readonly kinds: Record<string, Build>,
    private readonly random: () => number,
    private readonly poolSize: (kind: string) => number,
  ) {
    for (const [kind, w] of Object.entries(WEIGHTS)) {
      if (!kinds[kind]) throw new Error(`no generator for kind ${kind}`);
      for (let i = 0; i < w; i++) this.table.push(kind);
    }
    this.refresh();
  }

  refresh(): void {
    const pools: Record<string, SoakRequest[]> = {};
    for (const kind of Object.keys(WEIGHTS)) pools[kind] = this.kinds[kind](this.poolSize(kind));
    this.pools = pools;
  }

  next(): SoakRequest {
    const kind = this.table[(this.random() * this.table.length) | 0];
    const pool = this.pools[kind];
    if (kind === 'concurrent-retry') return pool[Math.floor(this.retries++ / RETRY_FANOUT) % pool.length];
    return pool[(this.random() * pool.length) | 0];
  }
}
