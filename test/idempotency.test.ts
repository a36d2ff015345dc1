import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { WritClient } from '../src/sdk/client.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { ManualClock, assertError, assertOk, httpPost, leavesFor, ledgerSize, product } from './support/stage-helpers.js';

/**
 * Idempotency (DESIGN §3, after Stripe and the IETF Idempotency-Key draft), keyed by
 * (tenant, actor, requestId): the same key and commandHash replay the stored response byte for byte;
 * another commandHash is 422; a retry while the first is in flight is 409.
 */

const RETENTION_S = 600;
const CONCURRENCY = 20;

describeEachBackend('idempotency', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let base: string;
  let client: WritClient;
  let ed: Signer;
  let nobody: Signer;

  const sign = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}, signer: Signer = ed) => h.sign('UpsertProduct', payload, { timestamp: clock.iso(), ...extra }, signer);
  const entity = async (sku: string) => (await h.get(`/v1/entities/${h.tenant}/product/${sku}`)).body;
  const okRecords = async (requestId: string) => (await leavesFor(h, 'commerce', requestId)).filter((r) => r.outcome === 'OK');

  /** Checks the outcome of concurrent identical submissions; returns how many were IDEMPOTENCY_IN_PROGRESS. */
  async function checkExactlyOnce(sku: string, requestId: string, replies: Array<{ status: number; body: any; replayed: boolean; retryAfter: string | null }>): Promise<number> {
    const originals = replies.filter((r) => r.status === 200 && !r.replayed);
    assert.equal(originals.length, 1, 'exactly one answer is the original');
    let inProgress = 0;
    for (const r of replies) {
      if (r.status === 200) {
        assert.equal(r.body.status, 'OK');
        assert.deepEqual(r.body, originals[0].body);
      } else {
        assertError(r, 'IDEMPOTENCY_IN_PROGRESS');
        assert.equal(r.retryAfter, '1');
        inProgress++;
      }
    }
    const e = await entity(sku);
    assert.equal(e.version, 1);
    assert.equal((await okRecords(requestId)).length, 1);
    return inProgress;
  }

  before(async () => {
    h = await startHarness({ idempotency: { retentionSeconds: RETENTION_S }, limits: { rate: 100_000, windowSeconds: 60, maxBuckets: 1000 } }, { now: clock.now, backend });
    base = await h.listen();
    client = new WritClient(base, h.reader);
    ed = await h.actor('ed', ['editor']);
    nobody = await h.actor('nobody');
  });
  after(() => h.close());

  it('returns the stored response for the same key and hash', async () => {
    const env = sign(product('same'));
    const first = await h.post(env);
    assertOk(first);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const size = await ledgerSize(h);
    const again = await h.post(env);
    assert.equal(again.status, 200);
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    const overSocket = await httpPost(base, JSON.stringify(env));
    assert.equal(overSocket.status, 200);
    assert.equal(overSocket.raw, first.raw);
    assert.equal(overSocket.headers.get('idempotent-replayed'), 'true');
    assert.equal(await ledgerSize(h), size);
    assert.equal((await entity('same')).version, 1);
  });

  it('replays a stored rejection byte for byte too', async () => {
    const env = sign(product('refused'), {}, nobody);
    const first = await h.post(env);
    assertError(first, 'FORBIDDEN');
    const again = await h.post(env);
    assert.equal(again.status, 403);
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((await leavesFor(h, 'commerce', env.requestId)).length, 1);
  });

  it('rejects the same key with another command with IDEMPOTENCY_KEY_REUSED 422, on the record', async () => {
    const requestId = randomUUID();
    const first = await h.post(sign(product('reused', 100), { requestId }));
    assertOk(first);
    const res = await h.post(sign(product('reused', 999), { requestId }));
    assertError(res, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(res.body.details.commandHash, first.body.commandHash);
    assert.notEqual(res.body.commandHash, first.body.commandHash);
    const e = await entity('reused');
    assert.equal(e.version, 1);
    assert.equal(e.doc.price.amount, 100);
    assert.deepEqual((await leavesFor(h, 'commerce', requestId)).map((r) => [r.outcome, r.code]), [['OK', null], ['REJECTED', 'IDEMPOTENCY_KEY_REUSED']]);
    // The stored answer is still the first one.
    const stored = await h.get(`/v1/commands/${h.tenant}/${requestId}`);
    assert.deepEqual(stored.body, first.body);
  });

  it('answers IDEMPOTENCY_KEY_REUSED over a real socket', async () => {
    const requestId = randomUUID();
    assert.equal((await client.submit(sign(product('reused-socket', 1), { requestId }))).status, 200);
    assertError(await client.submit(sign(product('reused-socket', 2), { requestId })), 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await entity('reused-socket')).doc.price.amount, 1);
  });

  it('keys by actor: another actor may use the same requestId', async () => {
    const requestId = randomUUID();
    assertOk(await h.post(sign(product('key-ed'), { requestId })));
    assertOk(await h.post(h.sign('UpsertProduct', product('key-admin'), { requestId, timestamp: clock.iso() })));
    const ambiguous = await h.get(`/v1/commands/${h.tenant}/${requestId}`);
    assertError(ambiguous, 'INVALID_STATE');
    assert.deepEqual([...ambiguous.body.details.actors].sort(), ['admin', 'ed']);
    assertError(await client.get(`/v1/commands/${h.tenant}/${requestId}`), 'INVALID_STATE');
    const mine = await h.get(`/v1/commands/${h.tenant}/${requestId}?actor=ed`);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.requestId, requestId);
  });

  it('applies concurrent identical submissions exactly once (pipeline), answering the rest with the replay or IDEMPOTENCY_IN_PROGRESS 409', async () => {
    const env = sign(product('concurrent-pipeline'));
    const body = Buffer.from(JSON.stringify(env));
    const replies = await Promise.all(Array.from({ length: CONCURRENCY }, () => h.writ.pipeline.submit({ body, receivedAt: clock.ms })));
    const inProgress = await checkExactlyOnce(
      'concurrent-pipeline',
      env.requestId,
      replies.map((r) => ({ status: r.httpStatus, body: JSON.parse(r.body), replayed: r.replayed, retryAfter: r.retryAfter === undefined ? null : String(r.retryAfter) })),
    );
    // All twenty are verified in the same turn, before the first can commit.
    assert.ok(inProgress > 0, 'no submission found the key in flight');
    const inProgressRecords = (await leavesFor(h, 'commerce', env.requestId)).filter((r) => r.code === 'IDEMPOTENCY_IN_PROGRESS');
    assert.equal(inProgressRecords.length, 0, 'an in-flight refusal is pushback: answered, never a ledger record');
    // Transient: nothing stored for them, the stored answer is the success.
    assert.equal((await h.writ.store.getOutcome(h.tenant, 'ed', env.requestId))!.httpStatus, 200);
  });

  it('applies concurrent identical submissions exactly once over inject()', async () => {
    let inProgress = 0;
    for (let round = 0; round < 10 && inProgress === 0; round++) {
      const sku = `concurrent-inject-${round}`;
      const env = sign(product(sku));
      const replies = await Promise.all(Array.from({ length: CONCURRENCY }, () => h.post(env)));
      inProgress += await checkExactlyOnce(
        sku,
        env.requestId,
        replies.map((r) => ({ status: r.status, body: r.body, replayed: r.headers['idempotent-replayed'] === 'true', retryAfter: (r.headers['retry-after'] as string | undefined) ?? null })),
      );
    }
    assert.ok(inProgress > 0, 'IDEMPOTENCY_IN_PROGRESS was never observed over inject()');
  });

  it('applies concurrent identical submissions exactly once over a real socket', async () => {
    let inProgress = 0;
    for (let round = 0; round < 10 && inProgress === 0; round++) {
      const sku = `concurrent-socket-${round}`;
      const text = JSON.stringify(sign(product(sku)));
      const requestId = JSON.parse(text).requestId as string;
      const replies = await Promise.all(Array.from({ length: CONCURRENCY }, () => httpPost(base, text)));
      inProgress += await checkExactlyOnce(
        sku,
        requestId,
        replies.map((r) => ({ status: r.status, body: r.body, replayed: r.headers.get('idempotent-replayed') === 'true', retryAfter: r.headers.get('retry-after') })),
      );
    }
    assert.ok(inProgress > 0, 'IDEMPOTENCY_IN_PROGRESS was never observed over a real socket');
  });

  it('applies exactly one of concurrent different commands under one key and refuses the rest with IDEMPOTENCY_KEY_REUSED 422', async () => {
    const requestId = randomUUID();
    const replies = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => h.post(sign(product('contended', i + 1), { requestId }))));
    const winners = replies.filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    for (const r of replies) if (r.status !== 200) assertError(r, 'IDEMPOTENCY_KEY_REUSED');
    const e = await entity('contended');
    assert.equal(e.version, 1);
    assert.equal(winners[0].body.commandHash, (await h.writ.store.getOutcome(h.tenant, 'ed', requestId))!.commandHash);
    assert.equal((await okRecords(requestId)).length, 1);
  });

  it('serves the stored answer at GET /v1/commands/{tenant}/{requestId}', async () => {
    const env = sign(product('lookup'));
    const first = await h.post(env);
    const stored = await h.app.inject({ method: 'GET', url: `/v1/commands/${h.tenant}/${env.requestId}`, headers: { authorization: h.readAuth('GET', `/v1/commands/${h.tenant}/${env.requestId}`) } });
    assert.equal(stored.statusCode, 200);
    assert.equal(stored.body, first.raw);
    assert.equal(stored.headers['writ-command-status'], '200');
    const refused = sign(product('lookup-refused'), {}, nobody);
    await h.post(refused);
    const storedRefusal = await h.get(`/v1/commands/${h.tenant}/${refused.requestId}`);
    assert.equal(storedRefusal.headers['writ-command-status'], '403');
    assert.equal(storedRefusal.body.code, 'FORBIDDEN');
    const overSocket = await client.get(`/v1/commands/${h.tenant}/${env.requestId}`);
    assert.equal(overSocket.status, 200);
    assert.deepEqual(overSocket.body, first.body);
  });

  it('answers NOT_FOUND 404 for a requestId with no stored outcome, over inject() and a real socket', async () => {
    assertError(await h.get(`/v1/commands/${h.tenant}/${randomUUID()}`), 'NOT_FOUND');
    assertError(await h.get(`/v1/commands/${h.tenant}/bad%20id`), 'NOT_FOUND');
    assertError(await client.get(`/v1/commands/${h.tenant}/${randomUUID()}`), 'NOT_FOUND');
  });

  it('keeps stored outcomes across a restart', async () => {
    const env = sign(product('restart'));
    const first = await h.post(env);
    assertOk(first);
    await h.restart();
    base = await h.listen();
    client = new WritClient(base, h.reader);
    assert.equal(h.writ.idempotency.inFlight, 0);
    const again = await h.post(env);
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assertError(await h.post(sign(product('restart', 5), { requestId: env.requestId })), 'IDEMPOTENCY_KEY_REUSED');
    const overSocket = await httpPost(base, JSON.stringify(env));
    assert.equal(overSocket.raw, first.raw);
    assert.equal((await entity('restart')).version, 1);
  });

  it('prunes outcomes older than the retention, after which the old envelope is stale rather than applied again', async () => {
    const env = sign(product('retained'));
    assertOk(await h.post(env));
    const created = clock.ms;
    const retentionMs = RETENTION_S * 1000;
    assert.ok(await h.writ.store.getNonce(h.tenant, 'ed', env.nonce));
    await h.writ.store.prune(created + retentionMs - 1, retentionMs);
    assert.ok(await h.writ.store.getOutcome(h.tenant, 'ed', env.requestId), 'pruned before the retention ran out');
    // The nonce expired with the skew window (timestamp + 300 s), long before the outcome.
    assert.equal(await h.writ.store.getNonce(h.tenant, 'ed', env.nonce), null);
    const pruned = await h.writ.store.prune(created + retentionMs + 1, retentionMs);
    assert.ok(pruned.outcomes >= 1);
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'ed', env.requestId), null);
    assertError(await h.get(`/v1/commands/${h.tenant}/${env.requestId}`), 'NOT_FOUND');
    // Retention (600 s) exceeds the skew (300 s): by the time an outcome is gone, its envelope is stale.
    clock.advance(retentionMs + 1);
    assertError(await h.post(env), 'STALE_TIMESTAMP');
    assert.equal((await entity('retained')).version, 1);
    assert.equal((await okRecords(env.requestId)).length, 1);
  });
});
