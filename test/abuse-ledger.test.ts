import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { WritError } from '../src/core/errors.js';
import { encodeRecord, MAX_LEAF_BYTES, type LedgerRecord } from '../src/ledger/record.js';
import { newNonce, type Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { ManualClock, assertError, assertOk, leavesFor, product } from './support/stage-helpers.js';
import { storeSize } from './support/db-scan.js';

/**
 * Abuse limits on what a key holder can make writ write (docs/security.md, "Abuse limits"): every
 * field that reaches a leaf is bounded at intake; refusals are rate limited before they are
 * recorded; refusals that only say "not now" (RATE_LIMITED, IDEMPOTENCY_IN_PROGRESS, UNAVAILABLE)
 * are counted in /healthz, never recorded.
 */

const RATE = 5;

/** Records over every log, as the log sequencer knows them (durable once the answer came). */
function records(h: Harness): number {
  return h.writ.applier.logSizes().reduce((n, l) => n + l.size, 0);
}

async function pushback(h: Harness): Promise<Record<string, number>> {
  const health = await h.get('/healthz');
  assert.equal(health.status, 200);
  return health.body.pushback;
}

describeEachBackend('abuse limits: what a key holder without a role can make writ write', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  const signers: Record<string, Signer> = {};
  const stale = () => new Date(clock.ms - 3600_000).toISOString();
  const sign = (who: string, action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    h.sign(action, payload, { timestamp: clock.iso(), ...extra }, signers[who]);

  before(async () => {
    h = await startHarness({ limits: { rate: RATE, windowSeconds: 60, maxBuckets: 1000 } }, { now: clock.now, backend });
    // h.actor signs with the real clock: stay within the skew, yet refill the admin's bucket (one token per 12 s).
    for (const [name, roles] of [['nobody'], ['stale'], ['replayer'], ['reuser'], ['big'], ['ed', 'editor'], ['flagged', 'editor']]) {
      signers[name] = await h.actor(name, roles ? [roles] : []);
      clock.advance(30_000);
    }
    assertOk(await h.post(h.sign('writ.SetFlag', { subject: 'actor:flagged', flag: 'blocked', reason: 'test' }, { timestamp: clock.iso() })));
  });
  after(() => h.close());

  it('refuses every envelope field that reaches a leaf when it is longer than its bound, naming the bound, and records nothing', async () => {
    const before = records(h);
    const cases: Array<[string, Record<string, unknown>]> = [
      ['action', { action: `A${'b'.repeat(250_000)}` }],
      ['action', { action: 'A'.repeat(129) }],
      ['actor', { actor: 'a'.repeat(129) }],
      ['requestId', { requestId: 'r'.repeat(129) }],
      ['nonce', { nonce: 'n'.repeat(129) }],
      ['target', { target: `product/${'x'.repeat(600)}` }],
      ['tenant', { tenant: 't'.repeat(65) }],
    ];
    for (const [field, extra] of cases) {
      const action = (extra.action as string | undefined) ?? 'UpsertProduct';
      const res = await h.post(sign('nobody', action, product('long'), { ...extra, timestamp: stale() }));
      assertError(res, 'INVALID_ENVELOPE', field);
      assert.match(res.body.message, new RegExp(`"${field}" .*at most \\d+ characters`), field);
    }
    const env = sign('nobody', 'UpsertProduct', product('long-key'));
    const longKey = await h.post({ ...env, signature: { ...env.signature, keyId: 'k'.repeat(129) } });
    assertError(longKey, 'INVALID_ENVELOPE');
    assert.match(longKey.body.message, /"signature.keyId" .*at most 128 characters/);
    assert.equal(records(h), before);
  });

  it('refuses a target derived from the payload that is longer than the target bound, before it reaches a leaf', () => {
    const action = h.writ.catalog.get('UpsertProduct')!;
    assert.throws(() => h.writ.catalog.target(action, { sku: 'x'.repeat(600) }, undefined), (err: unknown) => err instanceof WritError && err.code === 'INVALID_PAYLOAD' && /at most/.test(err.message));
  });

  it('rate limits stale envelopes before recording them: after limits.rate records the rest are RATE_LIMITED and not written', async () => {
    const before = records(h);
    const counted = (await pushback(h)).RATE_LIMITED ?? 0;
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await h.post(sign('stale', 'UpsertProduct', product(`stale-${i}`), { timestamp: stale() })));
    assert.deepEqual(answers.map((a) => a.body.code), [...Array(RATE).fill('STALE_TIMESTAMP'), ...Array(20 - RATE).fill('RATE_LIMITED')]);
    for (const a of answers.slice(RATE)) {
      assertError(a, 'RATE_LIMITED');
      assert.ok(Number(a.headers['retry-after']) >= 1, 'RATE_LIMITED comes with Retry-After');
      assert.equal(a.body.receipt, undefined, 'a RATE_LIMITED refusal has no ledger record');
    }
    assert.equal(records(h) - before, RATE);
    assert.equal((await pushback(h)).RATE_LIMITED - counted, 20 - RATE, '/healthz counts the refusals it did not record');
  });

  it('rate limits replayed nonces before recording them', async () => {
    const before = records(h);
    const nonce = newNonce();
    assertError(await h.post(sign('replayer', 'UpsertProduct', product('replay-0'), { nonce })), 'FORBIDDEN');
    const codes = [];
    for (let i = 1; i <= 20; i++) codes.push((await h.post(sign('replayer', 'UpsertProduct', product(`replay-${i}`), { nonce }))).body.code);
    assert.deepEqual(codes, [...Array(RATE - 1).fill('NONCE_REPLAY'), ...Array(21 - RATE).fill('RATE_LIMITED')]);
    assert.equal(records(h) - before, RATE);
  });

  it('rate limits reused requestIds before recording them', async () => {
    const before = records(h);
    const requestId = `reused-${newNonce()}`;
    assertError(await h.post(sign('reuser', 'UpsertProduct', product('reuse-0'), { requestId })), 'FORBIDDEN');
    const codes = [];
    for (let i = 1; i <= 20; i++) codes.push((await h.post(sign('reuser', 'UpsertProduct', product(`reuse-${i}`), { requestId }))).body.code);
    assert.deepEqual(codes, [...Array(RATE - 1).fill('IDEMPOTENCY_KEY_REUSED'), ...Array(21 - RATE).fill('RATE_LIMITED')]);
    assert.equal(records(h) - before, RATE);
  });

  it('charges a blocked actor a token for each BLOCKED refusal it records, so it too stops at limits.rate records', async () => {
    const before = records(h);
    const codes = [];
    for (let i = 0; i < 20; i++) codes.push((await h.post(sign('flagged', 'UpsertProduct', product(`flagged-${i}`)))).body.code);
    assert.deepEqual(codes, [...Array(RATE).fill('BLOCKED'), ...Array(20 - RATE).fill('RATE_LIMITED')]);
    assert.equal(records(h) - before, RATE);
  });

  it('records none of twenty concurrent retries of one command as IDEMPOTENCY_IN_PROGRESS, and counts them in /healthz', async () => {
    const counted = (await pushback(h)).IDEMPOTENCY_IN_PROGRESS ?? 0;
    const env = sign('ed', 'UpsertProduct', product('concurrent'));
    const body = Buffer.from(JSON.stringify(env));
    const replies = await Promise.all(Array.from({ length: 20 }, () => h.writ.pipeline.submit({ body, receivedAt: clock.ms })));
    const inProgress = replies.filter((r) => JSON.parse(r.body).code === 'IDEMPOTENCY_IN_PROGRESS');
    assert.ok(inProgress.length > 0, 'no retry found the command in flight');
    for (const r of inProgress) {
      assert.equal(r.httpStatus, 409);
      assert.equal(r.retryAfter, 1);
    }
    assert.deepEqual((await leavesFor(h, 'commerce', env.requestId)).map((l) => l.code), [null], 'one record: the command itself');
    assert.equal((await pushback(h)).IDEMPOTENCY_IN_PROGRESS - counted, inProgress.length);
    assertOk(await h.post(sign('ed', 'UpsertProduct', product('concurrent-after'))));
  });

  it('keeps 200 stale envelopes with the largest bodies from growing the store beyond limits.rate records', async () => {
    const before = records(h);
    const bytesBefore = await storeSize(h);
    const description = 'd'.repeat(250_000);
    for (let i = 0; i < 200; i++) {
      const res = await h.post(sign('big', 'UpsertProduct', { ...product(`big-${i}`), description }, { timestamp: stale() }));
      assert.ok(res.body.code === 'STALE_TIMESTAMP' || res.body.code === 'RATE_LIMITED', res.raw.slice(0, 200));
    }
    assert.equal(records(h) - before, RATE);
    // Five bodies of 250 KB, with room for page overhead; unbounded, 200 of them were over 50 MB.
    const grown = (await storeSize(h)) - bytesBefore;
    assert.ok(grown < 8 * 1024 * 1024, `the store grew by ${grown} bytes`);
  });
});

describe('the ledger record bound', () => {
  const base: LedgerRecord = {
    v: 1,
    index: Number.MAX_SAFE_INTEGER,
    ts: '2026-01-01T00:00:00.000Z',
    tenant: 't'.repeat(64),
    scroll: 's'.repeat(32),
    actor: 'a'.repeat(128),
    action: 'A'.repeat(128),
    requestId: 'r'.repeat(128),
    commandHash: 'f'.repeat(64),
    outcome: 'REJECTED',
    code: 'IDEMPOTENCY_KEY_REUSED',
    // The longest target an envelope may name, in the characters whose JSON form is longest.
    target: `${'p'.repeat(64)}/${'\u0001'.repeat(448)}`,
    version: Number.MAX_SAFE_INTEGER,
    resultHash: 'e'.repeat(64),
    prev: '0'.repeat(64),
  };

  it('fits the largest record the envelope bounds allow well inside MAX_LEAF_BYTES and the entry-bundle limit', () => {
    const { leaf } = encodeRecord(base);
    assert.ok(leaf.length <= MAX_LEAF_BYTES, `${leaf.length} bytes`);
    assert.ok(MAX_LEAF_BYTES < 65_535);
  });

  it('refuses to build a larger leaf with a typed error, never a RangeError later', () => {
    assert.throws(() => encodeRecord({ ...base, action: 'A'.repeat(70_000) }), (err: unknown) => err instanceof WritError && err.code === 'INVALID_ENVELOPE' && new RegExp(String(MAX_LEAF_BYTES)).test(err.message));
  });
});
