import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { RateLimiter } from '../src/pipeline/limits/limits.js';
import { WritClient } from '../src/sdk/client.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { ManualClock, assertError, assertOk, leavesFor, product } from './support/stage-helpers.js';

/**
 * Limits (DESIGN §1): resolver flags (blocked / readonly, on the tenant or one actor), then a token
 * bucket per (tenant, actor). Rejections are authenticated, so each one is a ledger record.
 */

describeEachBackend('limits: rate', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let client: WritClient;
  let rl: Signer;
  let rs: Signer;

  const sign = (sku: string, signer: Signer, extra: Record<string, unknown> = {}) => h.sign('UpsertProduct', product(sku), { timestamp: clock.iso(), ...extra }, signer);

  before(async () => {
    h = await startHarness({ limits: { rate: 5, windowSeconds: 60, maxBuckets: 100 } }, { now: clock.now, backend });
    client = new WritClient(await h.listen(), h.reader);
    rl = await h.actor('rl', ['editor']);
    rs = await h.actor('rs', ['editor']);
    clock.advance(60_000); // the admin's bucket is full again
  });
  after(() => h.close());

  it('rejects the command after limits.rate commands with RATE_LIMITED 429 and Retry-After, counted in /healthz and not recorded', async () => {
    for (let i = 0; i < 5; i++) assertOk(await h.post(sign(`rate-${i}`, rl)));
    const sixth = sign('rate-5', rl);
    const res = await h.post(sixth);
    assertError(res, 'RATE_LIMITED');
    // 5 per 60 s: one token every 12 s, and the bucket is exactly empty on this clock.
    assert.equal(res.headers['retry-after'], '12');
    assert.deepEqual(await leavesFor(h, 'commerce', sixth.requestId), [], 'pushback is not a ledger record');
    assert.equal(res.body.receipt, undefined);
    assert.ok((await h.get('/healthz')).body.pushback.RATE_LIMITED >= 1);
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'rl', sixth.requestId), null, 'a transient rejection is not stored');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/rate-5`)).status, 404);
  });

  it('limits each actor on its own', async () => {
    assertOk(await h.post(h.sign('UpsertProduct', product('rate-admin'), { timestamp: clock.iso() })));
  });

  it('tells the truth in Retry-After and accepts the same requestId once it has passed', async () => {
    const env = sign('rate-later', rl);
    assertError(await h.post(env), 'RATE_LIMITED');
    clock.advance(11_000);
    const early = await h.post(env);
    assertError(early, 'RATE_LIMITED');
    const wait = Number(early.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 2, `Retry-After ${wait} one second before the next token`);
    clock.advance(wait * 1000);
    const later = await h.post(env);
    assertOk(later);
    assert.equal(later.headers['idempotent-replayed'], undefined);
    assert.deepEqual((await leavesFor(h, 'commerce', env.requestId)).map((r) => r.code), [null], 'only the accepted command is recorded');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/rate-later`)).body.version, 1);
    // Now stored: a retransmission is a replay and takes no token.
    const again = await h.post(env);
    assert.equal(again.raw, later.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  it('answers RATE_LIMITED with Retry-After over a real socket', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await client.submit(sign(`sock-rate-${i}`, rs))).status, 200);
    const res = await client.submit(sign('sock-rate-5', rs));
    assertError(res, 'RATE_LIMITED');
    assert.equal(res.headers.get('retry-after'), '12');
  });
});

describe('the RateLimiter class', () => {
  const T = 1_900_000_000_000;

  it('grants limits.rate tokens, then answers the seconds until the next one', () => {
    const r = new RateLimiter({ rate: 5, windowSeconds: 60, maxBuckets: 100 });
    for (let i = 0; i < 5; i++) assert.equal(r.take('a', T), undefined);
    assert.equal(r.take('a', T), 12);
    assert.equal(r.take('a', T + 6_000), 6);
    assert.equal(r.take('a', T + 12_000), undefined);
    assert.equal(r.take('a', T + 12_000), 12);
  });

  it('keeps at most maxBuckets buckets', () => {
    const r = new RateLimiter({ rate: 5, windowSeconds: 60, maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) {
      r.take(`actor-${i}`, T);
      assert.ok(r.size <= 100);
    }
    assert.equal(r.size, 100);
  });

  it('evicts the least recently used bucket, which then starts full', () => {
    const r = new RateLimiter({ rate: 2, windowSeconds: 60, maxBuckets: 100 });
    r.take('cold', T);
    r.take('cold', T);
    r.take('hot', T);
    r.take('hot', T);
    assert.notEqual(r.take('cold', T), undefined);
    for (let i = 0; i < 150; i++) {
      r.take(`other-${i}`, T);
      if (i % 50 === 0) assert.notEqual(r.take('hot', T), undefined, 'the recently used bucket was evicted');
    }
    assert.equal(r.take('cold', T), undefined, 'an evicted bucket starts full');
    assert.notEqual(r.take('hot', T), undefined);
  });

  it('does not drain a bucket when the clock steps back', () => {
    const r = new RateLimiter({ rate: 5, windowSeconds: 60, maxBuckets: 100 });
    assert.equal(r.take('a', T), undefined);
    assert.equal(r.take('a', T - 300_000), undefined);
    for (let i = 0; i < 3; i++) assert.equal(r.take('a', T - 300_000), undefined);
    assert.equal(r.take('a', T - 300_000), 12);
  });
});

describeEachBackend('limits: flags', (backend) => {
  let h: Harness;
  let client: WritClient;
  let ed: Signer;
  let fl: Signer;
  let boss: Signer;

  const setFlag = async (subject: string, flag: 'blocked' | 'readonly' | 'none', signer?: Signer) => h.post(h.sign('writ.SetFlag', { subject, flag, reason: 'test' }, {}, signer));
  const upsert = (sku: string, signer?: Signer) => h.post(h.sign('UpsertProduct', product(sku), {}, signer));

  before(async () => {
    h = await startHarness({}, { backend });
    client = new WritClient(await h.listen(), h.reader);
    ed = await h.actor('ed', ['editor']);
    fl = await h.actor('fl', ['editor']);
    boss = await h.actor('boss', ['admin']);
  });
  after(() => h.close());

  it('rejects every command of a blocked actor with BLOCKED 403, on the record, and not those of others', async () => {
    assertOk(await setFlag('actor:fl', 'blocked'));
    const env = h.sign('UpsertProduct', product('blocked-fl'), {}, fl);
    const res = await h.post(env);
    assertError(res, 'BLOCKED');
    assert.match(res.body.message, /actor fl/);
    assert.deepEqual((await leavesFor(h, 'commerce', env.requestId)).map((r) => [r.outcome, r.code]), [['REJECTED', 'BLOCKED']]);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/blocked-fl`)).status, 404);
    assertOk(await upsert('blocked-ed', ed));
    assertError(await client.submit(h.sign('UpsertProduct', product('blocked-fl-socket'), {}, fl)), 'BLOCKED');
  });

  it('keeps a BLOCKED answer for its requestId after the flag is lifted, while new commands pass', async () => {
    const env = h.sign('UpsertProduct', product('blocked-then'), {}, fl);
    assertError(await h.post(env), 'BLOCKED');
    assertOk(await setFlag('actor:fl', 'none'));
    const again = await h.post(env);
    assertError(again, 'BLOCKED');
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assertOk(await upsert('unblocked-fl', fl));
  });

  it('rejects every command of a read-only actor with READONLY 403', async () => {
    assertOk(await setFlag('actor:fl', 'readonly'));
    const res = await upsert('readonly-fl', fl);
    assertError(res, 'READONLY');
    assertError(await client.submit(h.sign('UpsertProduct', product('readonly-fl-socket'), {}, fl)), 'READONLY');
    assertOk(await upsert('readonly-ed', ed));
    assertOk(await setFlag('actor:fl', 'none'));
    assertOk(await upsert('readonly-lifted', fl));
  });

  it('stops even writ.SetFlag from an actor who is flagged', async () => {
    assertOk(await setFlag('actor:boss', 'blocked'));
    assertError(await setFlag('actor:boss', 'none', boss), 'BLOCKED');
    assertOk(await setFlag('actor:boss', 'none'));
    assertOk(await upsert('boss-free', boss));
  });

  it('rejects every actor of a blocked tenant with BLOCKED 403, yet lets an admin lift the flag with writ.SetFlag', async () => {
    assertOk(await setFlag('tenant', 'blocked'));
    const res = await upsert('tenant-blocked-ed', ed);
    assertError(res, 'BLOCKED');
    assert.match(res.body.message, /tenant default/);
    assertError(await upsert('tenant-blocked-admin'), 'BLOCKED');
    assertError(await client.submit(h.sign('AssignRole', { actor: 'ed', role: 'viewer' })), 'BLOCKED');
    // An editor may send writ.SetFlag past the flag, but policy does not let it.
    assertError(await setFlag('tenant', 'none', ed), 'FORBIDDEN');
    assertOk(await setFlag('tenant', 'none'));
    assertOk(await upsert('tenant-lifted', ed));
  });

  it('rejects every actor of a read-only tenant with READONLY 403 until an admin lifts it', async () => {
    assertOk(await setFlag('tenant', 'readonly'));
    assertError(await upsert('tenant-ro-ed', ed), 'READONLY');
    assertError(await client.submit(h.sign('UpsertProduct', product('tenant-ro-admin'))), 'READONLY');
    const lift = await client.submit(h.sign('writ.SetFlag', { subject: 'tenant', flag: 'none' }));
    assert.equal(lift.status, 200, JSON.stringify(lift.body));
    assertOk(await upsert('tenant-ro-lifted', ed));
  });

  it('lets blocked win over read-only', async () => {
    assertOk(await setFlag('tenant', 'readonly'));
    assertOk(await setFlag('actor:fl', 'blocked'));
    assertError(await upsert('both-fl', fl), 'BLOCKED');
    assertError(await upsert('both-ed', ed), 'READONLY');
    assertOk(await setFlag('tenant', 'none'));
    assertOk(await setFlag('actor:fl', 'none'));
  });

  it('does not let an actor who is blocked lift its own flag while the whole tenant is blocked too', async () => {
    assertOk(await setFlag('actor:boss', 'blocked'));
    assertOk(await setFlag('tenant', 'blocked'));
    try {
      assertError(await setFlag('actor:boss', 'none', boss), 'BLOCKED');
    } finally {
      assertOk(await setFlag('tenant', 'none'));
      assertOk(await setFlag('actor:boss', 'none'));
    }
  });

  it('keeps flags across a restart', async () => {
    assertOk(await setFlag('actor:fl', 'readonly'));
    await h.restart();
    client = new WritClient(await h.listen(), h.reader);
    assertError(await upsert('restart-fl', fl), 'READONLY');
    assertOk(await setFlag('actor:fl', 'none'));
    assertOk(await upsert('restart-fl-lifted', fl));
  });
});
