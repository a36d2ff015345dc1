import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffMs } from '../src/outbox/backoff.js';

describe('outbox backoff', () => {
  it('doubles from the base and stops at the cap, before jitter', () => {
    const mid = () => 0.5; // jitter factor 0.75 + 0.5·0.5 = 1
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffMs(n, 500, 60_000, mid)),
      [500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000],
    );
  });

  it('spreads each delay by at most 25 % either way', () => {
    assert.equal(backoffMs(1, 500, 60_000, () => 0), 375);
    assert.equal(backoffMs(1, 500, 60_000, () => 0.999999), 625);
    assert.equal(backoffMs(20, 500, 60_000, () => 0), 45_000);
    assert.equal(backoffMs(20, 500, 60_000, () => 0.999999), 75_000);
  });

  it('stays within [0.75·min(cap, base·2^(n-1)), 1.25·…] for any attempt count, however large', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, extra, r) => {
        const cap = base + extra;
        const d = backoffMs(n, base, cap, () => r);
        const exp = Math.min(cap, base * 2 ** Math.min(n - 1, 40));
        assert.ok(Number.isFinite(d));
        assert.ok(d >= Math.floor(exp * 0.75) && d <= Math.ceil(exp * 1.25), `${d} outside the jitter band of ${exp}`);
      }),
    );
  });
});
