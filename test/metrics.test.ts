import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import { startHarness, type Harness } from './support/harness.js';
import { testOutbox } from './support/outbox.js';
import { Scrape } from './support/prometheus.js';
import { assertError, assertOk, product } from './support/stage-helpers.js';
import { actorIn } from './support/tenants.js';

const RATE = 12;

/** GET /metrics (docs/metrics.md), read with an independent parser of the Prometheus text format. */
describeEachBackend('GET /metrics', (backend) => {
  let h: Harness;
  let dir: string;
  let token: string;
  let mo: Signer;

  const scrape = async (authorization?: string) => {
    const res = authorization === undefined ? await h.get('/metrics') : await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } }).then((r) => ({ status: r.statusCode, headers: r.headers, body: r.body }));
    assert.equal(res.status, 200, String(res.body));
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return new Scrape(String(res.body));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writ-metrics-'));
    token = randomBytes(32).toString('hex');
    writeFileSync(join(dir, 'scrape.token'), token + '\n', { mode: 0o600 });
    h = await startHarness({
      ...testOutbox([{ name: 'file', kind: 'ndjson', path: join(dir, 'events.ndjson') }]),
      limits: { rate: RATE, windowSeconds: 3600 },
      metrics: { scrapeTokenFile: join(dir, 'scrape.token') },
      ledger: { checkpointIntervalMs: 50 },
    } as never, { backend });
    mo = await h.actor('mo', ['merch']);
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts commands by action, outcome and code, refusals before authentication, pushback, and times every stage', async () => {
    const base = await scrape();
    const put = h.sign('UpsertProduct', product('m-1'));
    assertOk(await h.post(put));
    assertOk(await h.post(h.sign('UpsertProduct', product('m-2'))));
    const replay = await h.post(put);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    // Recorded refusals: a payload that fails its schema, and a requestId reused for another command.
    assertError(await h.post(h.sign('UpsertProduct', { sku: 'm-3' })), 'INVALID_PAYLOAD');
    assertError(await h.post(h.sign('UpsertProduct', product('m-4'), { requestId: put.requestId })), 'IDEMPOTENCY_KEY_REUSED');
    // Refused before authentication: a body that does not parse, and a signature that does not verify.
    assertError(await h.post('{not json'), 'INVALID_ENVELOPE');
    assertError(await h.post({ ...h.sign('UpsertProduct', product('m-5')), payload: product('m-5', 999) }), 'BAD_SIGNATURE');
    // mo (merch) may not upsert products: each refusal is recorded and takes a token; past RATE, pushback (answered, not recorded).
    let limited = 0;
    for (let i = 0; i <= RATE; i++) {
      const res = await h.post(h.sign('UpsertProduct', product(`mo-${i}`), {}, mo));
      if (res.status === 429) limited++;
    }
    assert.equal(limited, 1);
    const now = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => now.value(name, labels) - base.value(name, labels);

    const upsert = (outcome: string, code = '') => delta('writ_commands_total', { action: 'UpsertProduct', outcome, code });
    assert.equal(now.family('writ_commands_total').type, 'COUNTER');
    assert.equal(upsert('ok'), 2, JSON.stringify(now.samples('writ_commands_total')));
    assert.equal(upsert('rejected', 'FORBIDDEN'), RATE);
    assert.equal(upsert('replayed'), 1);
    assert.equal(upsert('rejected', 'INVALID_PAYLOAD'), 1);
    assert.equal(upsert('rejected', 'IDEMPOTENCY_KEY_REUSED'), 1);
    assert.equal(upsert('refused', 'RATE_LIMITED'), 1);
    assert.equal(delta('writ_unauthenticated_refusals_total'), 2);
    assert.equal(delta('writ_pushback_total', { code: 'RATE_LIMITED' }), 1);
    assert.equal(delta('writ_pushback_total', { code: 'UNAVAILABLE' }), 0);
    assert.equal(delta('writ_replays_total'), 1);
    // The same counters /healthz shows.
    const health = (await h.get('/healthz')).body;
    assert.equal(now.value('writ_unauthenticated_refusals_total'), health.unauthenticated);
    assert.equal(now.value('writ_pushback_total', { code: 'RATE_LIMITED' }), health.pushback.RATE_LIMITED);

    // Every submission went through intake; each later stage saw those the stages before it let through.
    const sent = 7 + RATE + 1;
    const stage = (s: string) => now.histogram('writ_stage_duration_seconds', { stage: s });
    const count = (s: string) => stage(s).count - base.histogram('writ_stage_duration_seconds', { stage: s }).count;
    assert.equal(now.family('writ_stage_duration_seconds').type, 'HISTOGRAM');
    assert.equal(count('intake'), sent);
    assert.equal(count('authenticate'), sent - 1, 'all but the body that did not parse');
    assert.equal(count('idempotency'), sent - 2, 'all but the two refused before authentication');
    assert.equal(count('authorize'), 2 + RATE, 'mo within its rate, and the two accepted');
    assert.equal(count('apply'), 2, 'the accepted commands');
    assert.equal(stage('apply').buckets.get('+Inf'), stage('apply').count);
    assert.ok(stage('apply').sum > 0);
    // Group commit: every recorded command was in exactly one batch, and every batch was timed.
    const recorded = 2 + RATE + 2;
    assert.equal(now.histogram('writ_apply_batch_commands').sum - base.histogram('writ_apply_batch_commands').sum, recorded);
    assert.equal(now.histogram('writ_apply_commit_duration_seconds').count, now.histogram('writ_apply_batch_commands').count);
  });

  it('shows queue depths, log sizes and checkpoint age, and each outbox sink', async () => {
    assertOk(await h.post(h.sign('UpsertProduct', product('m-log'))));
    await h.writ.integrator.checkpointNow(h.tenant, 'commerce');
    const s = await scrape();
    const logs = (await h.get('/v1/logs')).body;
    const commerce = logs.logs.find((l: { origin: string }) => l.origin.endsWith(`/${h.tenant}/commerce`));
    assert.ok(commerce, JSON.stringify(logs));
    assert.equal(s.value('writ_log_records', { tenant: h.tenant, scroll: 'commerce' }), commerce.size);
    assert.equal(s.value('writ_log_checkpoint_records', { tenant: h.tenant, scroll: 'commerce' }), commerce.size);
    const age = s.value('writ_log_checkpoint_age_seconds', { tenant: h.tenant, scroll: 'commerce' });
    assert.ok(age >= 0 && age < 60, `checkpoint age ${age}`);
    assert.equal(s.value('writ_log_problem', { tenant: h.tenant, scroll: 'commerce' }), 0);
    assert.equal(s.value('writ_apply_pending_commands'), 0);
    assert.equal(s.value('writ_idempotency_in_flight'), 0);
    assert.equal(s.value('writ_http_commands_in_flight'), 0);
    assert.equal(s.value('writ_http_commands_in_flight_limit'), h.writ.config.server.maxInFlight);
    const sinks = (await h.get('/v1/outbox/sinks')).body;
    const file = sinks.sinks.find((k: { name: string }) => k.name === 'file');
    assert.equal(s.value('writ_outbox_head'), sinks.head);
    assert.equal(s.value('writ_outbox_dead_letters', { sink: 'file' }), file.deadLetters);
    assert.ok(s.samples('writ_outbox_lag_events', { sink: 'file' }).length === 1);
    assert.ok(s.value('writ_outbox_delivered_total', { sink: 'file' }) + s.value('writ_outbox_lag_events', { sink: 'file' }) >= s.value('writ_outbox_head'), 'every event is delivered or waiting');
    assert.equal(s.families.has('writ_nats_intake_state'), false, 'no NATS families without the NATS intake');
  });

  it('is for operators: anonymous callers get 401 and identities of another tenant 403', async () => {
    assert.equal((await h.getAs('/metrics', null)).status, 401);
    const olga = await actorIn(h, 'other', 'olga', ['admin']);
    assert.equal((await h.getAs('/metrics', olga, { tenant: 'other' })).status, 403);
    const merch = await h.getAs('/metrics', mo);
    assert.equal(merch.status, 403, 'a tenant role without read:outbox');
  });

  it('lets a scraper in with the scrape token, and only with that token', async () => {
    await scrape(`Bearer ${token}`);
    const wrong = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    for (const authorization of [`Bearer ${wrong}`, `Bearer ${token.slice(0, 32)}`, token, `Basic ${token}`]) {
      const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
      assert.equal(res.statusCode, 401, `${authorization.slice(0, 12)}…: ${res.body}`);
      assert.ok(!res.body.includes(token.slice(0, 16)), 'the answer does not echo the token');
    }
    const other = await h.app.inject({ method: 'GET', url: '/v1/outbox/sinks', headers: { authorization: `Bearer ${token}` } });
    assert.equal(other.statusCode, 401, 'the token opens /metrics only');
  });

  it('refuses a scrape token file that is short or readable by others, naming the file but not its content', () => {
    const short = join(dir, 'short.token');
    writeFileSync(short, 'abc123', { mode: 0o600 });
    const loose = join(dir, 'loose.token');
    writeFileSync(loose, randomBytes(32).toString('hex'), { mode: 0o644 });
    for (const [file, pattern] of [[short, /holds 6 bytes.*at least 32/], [loose, /chmod 600/]] as const) {
      const writ = { ...h.writ, config: { ...h.writ.config, metrics: { scrapeTokenFile: file } } };
      assert.throws(() => buildServer(writ as never), (err: Error) => pattern.test(err.message) && err.message.includes(file) && !err.message.includes('abc123'));
    }
  });

  it('keeps a registry per writ: a second writ in the same process starts from zero', async () => {
    const h2 = await startHarness({}, { backend });
    try {
      const s = new Scrape(String((await h2.get('/metrics')).body));
      assert.equal(s.samples('writ_commands_total').length, 0);
      assert.equal(s.value('writ_unauthenticated_refusals_total'), 0);
    } finally {
      await h2.close();
    }
  });
});
