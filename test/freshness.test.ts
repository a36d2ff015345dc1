import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { WritError } from '../src/core/errors.js';
import type { CommandContext } from '../src/pipeline/context.js';
import { Freshness } from '../src/pipeline/freshness/freshness.js';
import { WritClient } from '../src/sdk/client.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { ManualClock, assertError, assertOk, leavesFor, ledgerSize, product } from './support/stage-helpers.js';

/**
 * Freshness (DESIGN §1-3): the timestamp must lie within freshness.skewSeconds of the server clock,
 * and a nonce is used once per (tenant, actor) within that window. These are authenticated
 * rejections, so each one is a ledger record with its code.
 */

const SKEW_MS = 300_000;

describeEachBackend('freshness', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let client: WritClient;
  let ed: Signer;

  /** Signs with the injected clock's time unless told otherwise. */
  const sign = (sku: string, extra: Record<string, unknown> = {}, signer?: Signer) => h.sign('UpsertProduct', product(sku), { timestamp: clock.iso(), ...extra }, signer);

  before(async () => {
    h = await startHarness({}, { now: clock.now, backend });
    client = new WritClient(await h.listen(), h.reader);
    ed = await h.actor('ed', ['editor']);
  });
  after(() => h.close());

  it('rejects a timestamp further in the past than the skew with STALE_TIMESTAMP 401, on the record', async () => {
    const env = sign('stale-past', { timestamp: new Date(clock.ms - SKEW_MS - 1000).toISOString() });
    const res = await h.post(env);
    assertError(res, 'STALE_TIMESTAMP');
    assert.equal(res.body.details.serverTime, clock.iso());
    assert.equal(res.body.details.skewSeconds, 300);
    assert.equal(res.body.requestId, env.requestId);
    assert.match(res.body.commandHash, /^[0-9a-f]{64}$/);
    const records = await leavesFor(h, 'commerce', env.requestId);
    assert.deepEqual(records.map((r) => [r.outcome, r.code, r.actor]), [['REJECTED', 'STALE_TIMESTAMP', 'admin']]);
    assert.equal(res.body.receipt.index, records[0].index);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/stale-past`)).status, 404);
  });

  it('rejects a timestamp further in the future than the skew with STALE_TIMESTAMP 401', async () => {
    const env = sign('stale-future', { timestamp: new Date(clock.ms + SKEW_MS + 1000).toISOString() });
    assertError(await h.post(env), 'STALE_TIMESTAMP');
  });

  it('rejects a command that the server clock has moved past with STALE_TIMESTAMP 401', async () => {
    const env = sign('stale-clock');
    clock.advance(SKEW_MS + 1);
    try {
      assertError(await h.post(env), 'STALE_TIMESTAMP');
    } finally {
      clock.advance(-(SKEW_MS + 1));
    }
  });

  it('accepts a timestamp exactly at the skew and rejects one a millisecond beyond it', async () => {
    assertOk(await h.post(sign('skew-edge', { timestamp: new Date(clock.ms - SKEW_MS).toISOString() })));
    assertOk(await h.post(sign('skew-edge-future', { timestamp: new Date(clock.ms + SKEW_MS).toISOString() })));
    assertError(await h.post(sign('skew-beyond', { timestamp: new Date(clock.ms - SKEW_MS - 1).toISOString() })), 'STALE_TIMESTAMP');
  });

  it('lets a stale command be signed again with the same requestId (a stale outcome is not stored)', async () => {
    const requestId = randomUUID();
    assertError(await h.post(sign('stale-resign', { requestId, timestamp: new Date(clock.ms - SKEW_MS - 1).toISOString() })), 'STALE_TIMESTAMP');
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'admin', requestId), null);
    assertOk(await h.post(sign('stale-resign', { requestId })));
    assert.deepEqual((await leavesFor(h, 'commerce', requestId)).map((r) => r.code), ['STALE_TIMESTAMP', null]);
  });

  it('rejects a new envelope that reuses a nonce with NONCE_REPLAY 409, on the record', async () => {
    const first = sign('nonce-1', {}, ed);
    assertOk(await h.post(first));
    const second = sign('nonce-2', { nonce: first.nonce }, ed);
    assert.notEqual(second.requestId, first.requestId);
    const res = await h.post(second);
    assertError(res, 'NONCE_REPLAY');
    const records = await leavesFor(h, 'commerce', second.requestId);
    assert.deepEqual(records.map((r) => [r.outcome, r.code, r.actor]), [['REJECTED', 'NONCE_REPLAY', 'ed']]);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/nonce-2`)).status, 404);
  });

  it('answers a byte-identical retransmission with the stored response, not NONCE_REPLAY', async () => {
    const env = sign('retransmit', {}, ed);
    const first = await h.post(env);
    assertOk(first);
    const size = await ledgerSize(h);
    const again = await h.post(env);
    assert.equal(again.status, 200);
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(await ledgerSize(h), size);
  });

  it('lets exactly one of two concurrent envelopes with the same nonce through', async () => {
    const a = sign('race-a', {}, ed);
    const b = sign('race-b', { nonce: a.nonce }, ed);
    const results = await Promise.all([h.post(a), h.post(b)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    assert.ok(results.some((r) => r.body.code === 'NONCE_REPLAY'));
  });

  it('keeps nonces per actor: another actor may use the same nonce', async () => {
    const mine = sign('per-actor-ed', {}, ed);
    assertOk(await h.post(mine));
    assertOk(await h.post(sign('per-actor-admin', { nonce: mine.nonce })));
  });

  it('still catches a nonce replay at the last millisecond of the window', async () => {
    const t0 = clock.ms;
    const first = sign('window-1', {}, ed);
    assertOk(await h.post(first));
    clock.advance(SKEW_MS);
    try {
      // The replay keeps the first timestamp, so it is exactly at the edge of the skew: still fresh.
      assertError(await h.post(sign('window-2', { nonce: first.nonce, timestamp: new Date(t0).toISOString() }, ed)), 'NONCE_REPLAY');
      clock.advance(1);
      assertError(await h.post(sign('window-3', { nonce: first.nonce, timestamp: new Date(t0).toISOString() }, ed)), 'STALE_TIMESTAMP');
    } finally {
      clock.ms = t0;
    }
  });

  it('answers STALE_TIMESTAMP and NONCE_REPLAY over a real socket', async () => {
    const stale = await client.submit(sign('sock-stale', { timestamp: new Date(clock.ms - SKEW_MS - 1).toISOString() }, ed));
    assertError(stale, 'STALE_TIMESTAMP');
    const first = sign('sock-nonce-1', {}, ed);
    assert.equal((await client.submit(first)).status, 200);
    const replay = sign('sock-nonce-2', { nonce: first.nonce }, ed);
    assertError(await client.submit(replay), 'NONCE_REPLAY');
    assert.equal((await leavesFor(h, 'commerce', replay.requestId))[0].code, 'NONCE_REPLAY');
  });

  it('remembers nonces across a restart', async () => {
    const first = sign('restart-1', {}, ed);
    assertOk(await h.post(first));
    await h.restart();
    client = new WritClient(await h.listen(), h.reader);
    // Start-up loads every unexpired nonce from the store back into memory; a store other processes
    // share (PostgreSQL) is asked on every miss instead, since memory cannot know their nonces.
    if (backend === 'sqlite') {
      assert.ok(h.writ.freshness.cached >= 1, `preloaded ${h.writ.freshness.cached} nonces`);
      assert.equal(h.writ.freshness.complete(clock.ms), true);
    } else assert.equal(h.writ.freshness.complete(clock.ms), false);
    assertError(await h.post(sign('restart-2', { nonce: first.nonce }, ed)), 'NONCE_REPLAY');
    assertError(await client.submit(sign('restart-3', { nonce: first.nonce }, ed)), 'NONCE_REPLAY');
  });

  it('does not write a ledger record for every retransmission of one stale envelope', async () => {
    const env = sign('stale-flood', { timestamp: new Date(clock.ms - SKEW_MS - 1).toISOString() });
    for (let i = 0; i < 3; i++) assertError(await h.post(env), 'STALE_TIMESTAMP');
    assert.equal((await leavesFor(h, 'commerce', env.requestId)).length, 1);
  });
});

describeEachBackend('freshness with a bounded nonce cache', (backend) => {
  let h: Harness;
  before(async () => {
    // 100 commands at once: more than the default server.maxInFlight lets in.
    h = await startHarness({ freshness: { skewSeconds: 300, nonceCacheMax: 1000 }, limits: { rate: 100_000, windowSeconds: 60, maxBuckets: 1000 }, server: { maxInFlight: 1000 } } as never, { backend });
  });
  after(() => h.close());

  it('keeps at most nonceCacheMax nonces in memory and catches replays of evicted ones from the store', async () => {
    const first = h.sign('UpsertProduct', product('bounded-0'));
    assertOk(await h.post(first));
    for (let chunk = 0; chunk < 11; chunk++) {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => h.post(h.sign('UpsertProduct', product(`bounded-${chunk}-${i}`)))));
      for (const r of replies) assert.equal(r.status, 200, r.raw);
      assert.ok(h.writ.freshness.cached <= 1000, `cache holds ${h.writ.freshness.cached}`);
    }
    assert.equal(h.writ.freshness.cached, 1000);
    // The first nonce went in first and 1100 came after it, so memory no longer holds it.
    const replay = h.sign('UpsertProduct', product('bounded-replay'), { nonce: first.nonce });
    assertError(await h.post(replay), 'NONCE_REPLAY');
    assert.equal((await leavesFor(h, 'commerce', replay.requestId))[0].code, 'NONCE_REPLAY');
  });
});

describeEachBackend('the Freshness class over a real store', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  const T0 = Date.parse('2030-01-01T00:00:00Z');
  function ctx(nonce: string, hash: string, ts = T0): CommandContext {
    return {
      envelope: { v: 1, action: 'UpsertProduct', requestId: randomUUID(), actor: 'unit', tenant: 'unit', timestamp: new Date(ts).toISOString(), nonce, payload: {} },
      commandHash: hash,
      prior: null,
      nonceChecked: false,
      ownsKey: false,
      roles: [],
    } as unknown as CommandContext;
  }
  const hash = (i: number) => i.toString(16).padStart(64, '0');

  it('stays within cacheMax, finds evicted nonces in the store, and drops expired entries', async () => {
    const store = h.writ.store;
    const f = new Freshness({ skewSeconds: 300, cacheMax: 1000 }, store);
    for (let i = 0; i < 1500; i++) {
      const c = ctx(`unit-nonce-${i}`, hash(i));
      await f.check(c, T0);
      assert.equal(c.nonceChecked, true);
      await store.commit({ entities: [], records: [], outbox: [], outcomes: [], nonces: [{ tenant: 'unit', actor: 'unit', nonce: c.envelope.nonce, commandHash: c.commandHash, expiresAt: f.expiryOf(c) }] });
      assert.ok(f.cached <= 1000);
    }
    assert.equal(f.cached, 1000);
    // Evicted from memory, found in the store: a new command is a replay, the same command is not.
    await assert.rejects(f.check(ctx('unit-nonce-0', hash(99_999)), T0), (e: unknown) => e instanceof WritError && e.code === 'NONCE_REPLAY');
    const same = ctx('unit-nonce-0', hash(0));
    await f.check(same, T0);
    assert.equal(same.nonceChecked, false);
    // Once every entry has expired, the next check sweeps them all out of memory.
    const later = T0 + 300_001;
    await f.check(ctx('unit-nonce-late', hash(100_000), later), later);
    assert.equal(f.cached, 1);
  });
});
