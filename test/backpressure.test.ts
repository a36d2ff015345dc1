import { strict as assert } from 'node:assert';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startHarness, type Harness } from './support/harness.js';
import { Scrape } from './support/prometheus.js';
import { assertError, assertOk, httpPost, ledgerSize, product } from './support/stage-helpers.js';

const BOUND = 3;

interface SocketAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: any;
  /** Whether the request went on a connection an earlier request had used (keep-alive). */
  readonly reused: boolean;
}

/** POST /v1/commands over a real socket through `agent`, answering with the status, Retry-After, body and socket reuse. */
function socketPost(base: string, agent: Agent, body: string): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/v1/commands', base), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: JSON.parse(Buffer.concat(chunks).toString()), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Back-pressure on HTTP (docs/metrics.md): at most server.maxInFlight commands are in flight; past
 * that a command is answered 503 UNAVAILABLE with Retry-After at once, and nothing is recorded or
 * claimed for it. The store is made slow for real: another connection holds SQLite's write lock.
 */
describe('back-pressure: the HTTP command queue is bounded', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ server: { maxInFlight: BOUND } } as never);
  });
  after(() => h.close());

  const scrape = async () => new Scrape(String((await h.get('/metrics')).body));

  it('answers 503 UNAVAILABLE with Retry-After past the bound, at once and unrecorded, while the accepted commands complete', async () => {
    const before = await scrape();
    const size = await ledgerSize(h);
    const blocker = new Database(h.writ.config.store.path);
    blocker.pragma('busy_timeout = 5000');
    blocker.exec('BEGIN IMMEDIATE');
    let released = false;
    try {
      const accepted = Array.from({ length: BOUND }, (_, i) => h.sign('UpsertProduct', product(`bp-ok-${i}`)));
      let settled = 0;
      const pending = accepted.map((e) => h.post(e).finally(() => settled++));
      for (let i = 0; (await scrape()).value('writ_http_commands_in_flight') < BOUND; i++) {
        assert.ok(i < 200, 'the accepted commands never were all in flight');
        await new Promise((r) => setTimeout(r, 10));
      }
      const extra = Array.from({ length: 5 }, (_, i) => h.sign('UpsertProduct', product(`bp-busy-${i}`)));
      const refused = await Promise.all(extra.map((e) => h.post(e)));
      // A body far over intake.maxBytes is refused 503 as well, not 413: it was never read.
      const huge = await h.post('x'.repeat(h.writ.config.intake.maxBytes * 4));
      assertError(huge, 'UNAVAILABLE');
      assert.equal(settled, 0, 'the refusals were answered while the accepted commands still waited on the store');
      refused.forEach((res, i) => {
        assert.equal(res.status, 503, res.raw);
        assertError(res, 'UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '1');
        // Refused before its body was read: the answer cannot name the command (DESIGN §3 allows a null requestId).
        assert.equal(res.body.requestId, null, `refusal ${i} read the body`);
        assert.match(res.body.message, /server\.maxInFlight/);
      });
      blocker.exec('COMMIT');
      released = true;
      for (const res of await Promise.all(pending)) assertOk(res);
      assert.equal(await ledgerSize(h), size + BOUND, 'only the accepted commands were recorded');
      const after = await scrape();
      assert.equal(after.value('writ_pushback_total', { code: 'UNAVAILABLE' }) - before.value('writ_pushback_total', { code: 'UNAVAILABLE' }), extra.length + 1);
      assert.equal((await h.get('/healthz')).body.pushback.UNAVAILABLE, after.value('writ_pushback_total', { code: 'UNAVAILABLE' }));
      assert.equal(after.value('writ_http_commands_in_flight'), 0);
      // Nothing was claimed for a refused command (its nonce, its idempotency key): sent again unchanged, it is applied.
      for (const e of extra) assertOk(await h.post(e));
    } finally {
      if (!released) blocker.exec('ROLLBACK');
      blocker.close();
    }
  });

  it('over a real socket refuses past the bound before the body is read, answers every refusal, and keeps the connection usable', async () => {
    const base = await h.listen();
    const before = await scrape();
    const size = await ledgerSize(h);
    const blocker = new Database(h.writ.config.store.path);
    blocker.exec('BEGIN IMMEDIATE');
    let released = false;
    // One connection for every refused request: each must be answered for the next one to be sent.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const pending = Array.from({ length: BOUND }, (_, i) => httpPost(base, JSON.stringify(h.sign('UpsertProduct', product(`bp-sock-${i}`)))));
      for (let i = 0; (await scrape()).value('writ_http_commands_in_flight') < BOUND; i++) {
        assert.ok(i < 200, 'the accepted commands never were all in flight');
        await new Promise((r) => setTimeout(r, 10));
      }
      const extra = Array.from({ length: 4 }, (_, i) => JSON.stringify(h.sign('UpsertProduct', product(`bp-sock-busy-${i}`))));
      // A body far over intake.maxBytes, then the small ones, all on the same connection.
      const bodies = ['x'.repeat(h.writ.config.intake.maxBytes * 4), ...extra];
      const answers: SocketAnswer[] = [];
      for (const body of bodies) answers.push(await socketPost(base, agent, body));
      answers.forEach((a, i) => {
        assert.equal(a.status, 503, JSON.stringify(a.body));
        assert.equal(a.body.code, 'UNAVAILABLE');
        assert.equal(a.retryAfter, '1');
        assert.equal(a.body.requestId, null, `refusal ${i} read the body`);
        assert.match(a.body.message, /server\.maxInFlight/);
        if (i > 0) assert.ok(a.reused, `refusal ${i} came on a new connection: the refused body broke keep-alive`);
      });
      // The same answer as the route's own refusal (inject() does not come through the socket's server).
      const injected = await h.post(h.sign('UpsertProduct', product('bp-sock-inject')));
      assert.deepEqual(answers[1].body, injected.body);
      blocker.exec('COMMIT');
      released = true;
      for (const res of await Promise.all(pending)) assert.equal(res.status, 200, res.raw);
      assert.equal(await ledgerSize(h), size + BOUND, 'only the accepted commands were recorded');
      const after = await scrape();
      assert.equal(after.value('writ_pushback_total', { code: 'UNAVAILABLE' }) - before.value('writ_pushback_total', { code: 'UNAVAILABLE' }), bodies.length + 1);
      // Nothing was claimed for them: sent again unchanged, they are applied.
      for (const body of extra) assert.equal((await socketPost(base, agent, body)).status, 200);
    } finally {
      agent.destroy();
      if (!released) blocker.exec('ROLLBACK');
      blocker.close();
    }
  });

  it('frees a place when a command is answered, whatever the answer', async () => {
    for (let i = 0; i < BOUND * 3; i++) assertError(await h.post('{not json'), 'INVALID_ENVELOPE');
    assertError(await h.post({ ...h.sign('UpsertProduct', product('bp-sig')), payload: product('bp-sig', 7) }), 'BAD_SIGNATURE');
    assertOk(await h.post(h.sign('UpsertProduct', product('bp-after'))));
    assert.equal((await scrape()).value('writ_http_commands_in_flight'), 0);
  });

  it('refuses a bound outside 1..1000000 in the configuration', async () => {
    const { loadConfig } = await import('../src/config/config.js');
    assert.throws(() => loadConfig(h.home, { server: { maxInFlight: 0 } } as never), /maxInFlight/);
  });
});
