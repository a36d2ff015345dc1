import { strict as assert } from 'node:assert';
import { chmodSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { describeConfig, loadConfig } from '../src/config/config.js';
import { eventJson } from '../src/outbox/sink.js';
import { openSink } from '../src/outbox/sinks/index.js';
import { openWrit } from '../src/writ.js';
import { startHarness, type Harness } from './support/harness.js';
import { freePort } from './support/nats.js';
import { orderViolation, testOutbox, waitUntil, webhookSecret, WebhookReceiver } from './support/outbox.js';

/**
 * Webhook delivery against a real node:http endpoint that verifies every request with the
 * standardwebhooks library (docs/outbox.md). Events are produced by real signed commands.
 */

async function upserts(h: Harness, skus: readonly string[], rounds: number): Promise<void> {
  for (let n = 0; n < rounds; n++) {
    for (const sku of skus) {
      const r = await h.post(h.sign('UpsertProduct', { sku, name: `${sku} #${n}`, price: { amount: n, currency: 'EUR' } }));
      assert.equal(r.status, 200, r.raw);
    }
  }
}

async function allDelivered(h: Harness, receiver: WebhookReceiver): Promise<boolean> {
  return receiver.ids().size === (await h.writ.store.outboxHead());
}

describeEachBackend('outbox: webhook sink', (backend) => {
  const { file, secret } = webhookSecret();
  let receiver: WebhookReceiver;
  let h: Harness;

  before(async () => {
    receiver = await WebhookReceiver.start(secret);
    h = await startHarness(testOutbox([{ name: 'hook', kind: 'webhook', url: receiver.url, secretFile: file, concurrency: 8 }]), { backend });
  });

  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('delivers every event once, signed per Standard Webhooks, in order per entity', async () => {
    await upserts(h, ['a', 'b', 'c', 'd'], 10);
    await waitUntil(() => allDelivered(h, receiver), 'every event is delivered');
    assert.equal(receiver.badSignatures, 0);
    assert.ok(receiver.accepted.every((d) => d.id === d.body.id), 'webhook-id is the event id');
    assert.equal(orderViolation(receiver.accepted), null);
    const rows = await h.writ.store.readOutbox(0, 1000);
    assert.deepEqual(new Set(rows.map((r) => r.id)), receiver.ids());
  });

  it('loses nothing while the endpoint answers 500, and keeps each entity in order after it recovers', async () => {
    // Every event is answered 500 twice, then 200: the endpoint recovers per event, so how late a busy
    // machine notices the failures cannot push an event past maxAttempts (4) into the dead letters.
    const failed = new Map<string, number>();
    receiver.answer = (body) => {
      const n = failed.get(body.id) ?? 0;
      if (n >= 2) return 200;
      failed.set(body.id, n + 1);
      return 500;
    };
    const before = receiver.attempts;
    await upserts(h, ['a', 'b', 'e'], 4);
    await waitUntil(() => allDelivered(h, receiver), 'every event is delivered after recovery');
    assert.equal(failed.size, 12, 'each of the 12 new events met the failing endpoint');
    assert.ok(receiver.attempts >= before + 36, 'each event was answered 500 twice before it was accepted');
    receiver.answer = () => 200;
    assert.equal(receiver.badSignatures, 0);
    assert.equal(orderViolation(receiver.accepted), null);
    const status = (await h.get('/v1/outbox/sinks')).body;
    assert.equal(status.sinks[0].name, 'hook');
    assert.match(status.sinks[0].lastError.message, /answered 500/);
    const log = (await h.get('/v1/outbox/sinks/hook/deliveries?limit=1000')).body.items as Array<{ status: number | null; error: string | null }>;
    assert.ok(log.some((d) => d.status === 500 && d.error !== null), 'the failed attempts are in the delivery log');
  });

  it('dead-letters an event after maxAttempts, lets the entity continue, and redrive delivers it', async () => {
    receiver.answer = (body) => (body.target === 'product/poison' && body.version === 1 ? 503 : 200);
    await upserts(h, ['poison'], 1);
    await upserts(h, ['poison', 'f'], 1);
    const [first] = (await h.writ.store.readOutbox((await h.writ.store.outboxHead()) - 3, 3)).filter((r) => r.target === 'product/poison');
    await waitUntil(async () => (await h.get('/v1/outbox/dead-letters?sink=hook')).body.items.length === 1, 'the event is a dead letter');
    const dead = (await h.get('/v1/outbox/dead-letters?sink=hook')).body.items[0];
    assert.equal(dead.eventId, first.id);
    assert.equal(dead.attempts, 4);
    // The entity's later event went on; everything but the dead letter is delivered.
    await waitUntil(async () => receiver.ids().size === (await h.writ.store.outboxHead()) - 1, 'all but the dead letter are delivered');
    assert.ok(!receiver.ids().has(first.id));
    assert.equal((await h.get('/v1/outbox/sinks')).body.sinks[0].deadLetters, 1);

    receiver.answer = () => 200;
    const r = await h.app.inject({ method: 'POST', url: `/v1/outbox/dead-letters/redrive?sink=hook&id=${first.id}`, headers: { authorization: h.readAuth('POST', `/v1/outbox/dead-letters/redrive?sink=hook&id=${first.id}`) } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(JSON.parse(r.body).marked, 1);
    await waitUntil(() => allDelivered(h, receiver), 'the redriven event is delivered');
    await waitUntil(async () => (await h.get('/v1/outbox/dead-letters')).body.items.length === 0, 'the dead letter is resolved');
    assert.equal(receiver.badSignatures, 0);
  });

  it('refuses redrive of an event that is not a dead letter, and an unknown sink', async () => {
    const missing = await h.app.inject({ method: 'POST', url: '/v1/outbox/dead-letters/redrive?id=01890000-0000-7000-8000-000000000000', headers: { authorization: h.readAuth('POST', '/v1/outbox/dead-letters/redrive?id=01890000-0000-7000-8000-000000000000') } });
    assert.equal(missing.statusCode, 404);
    assert.equal(JSON.parse(missing.body).code, 'NOT_FOUND');
    const sink = await h.app.inject({ method: 'POST', url: '/v1/outbox/retry?sink=nope', headers: { authorization: h.readAuth('POST', '/v1/outbox/retry?sink=nope') } });
    assert.equal(sink.statusCode, 404);
  });
});

describeEachBackend('outbox: a webhook answering 410 Gone', (backend) => {
  const { file, secret } = webhookSecret();
  let receiver: WebhookReceiver;
  let h: Harness;

  before(async () => {
    receiver = await WebhookReceiver.start(secret);
    receiver.answer = () => 410;
    h = await startHarness(testOutbox([{ name: 'gone', kind: 'webhook', url: receiver.url, secretFile: file }]), { backend });
  });

  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('disables the sink (persisted, visible in status) until retry enables it', async () => {
    await upserts(h, ['x', 'y'], 2);
    await waitUntil(async () => (await h.get('/v1/outbox/sinks')).body.sinks[0].disabled !== null, 'the sink is disabled');
    const attempts = receiver.attempts;
    await h.writ.outbox!.flush();
    const state = (await h.writ.store.sinkStates()).find((s) => s.sink === 'gone');
    assert.match(state?.disabledReason ?? '', /410/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(receiver.attempts, attempts, 'a disabled sink is not called');
    assert.equal(receiver.accepted.length, 0);

    // A restart keeps it disabled.
    await h.restart();
    assert.notEqual((await h.get('/v1/outbox/sinks')).body.sinks[0].disabled, null);

    receiver.answer = () => 200;
    const r = await h.app.inject({ method: 'POST', url: '/v1/outbox/retry?sink=gone', headers: { authorization: h.readAuth('POST', '/v1/outbox/retry?sink=gone') } });
    assert.deepEqual(JSON.parse(r.body), { retried: ['gone'] });
    await waitUntil(async () => receiver.ids().size === (await h.writ.store.outboxHead()), 'every event is delivered once enabled');
    assert.equal((await h.get('/v1/outbox/sinks')).body.sinks[0].disabled, null);
    assert.equal(orderViolation(receiver.accepted), null);
  });
});

describe('outbox: the webhook secret file', () => {
  it('refuses to start with a secret its group or others can read', async () => {
    const { file } = webhookSecret();
    chmodSync(file, 0o644);
    const h = await startHarness();
    try {
      const config = loadConfig(h.home, testOutbox([{ name: 'loose', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secretFile: file }]));
      await h.writ.close();
      await assert.rejects(openWrit(config), /accessible to every user \(mode 0644\).*chmod 600/);
    } finally {
      await h.writ.close().catch(() => undefined);
      await h.close().catch(() => undefined);
    }
  });
});

describe('outbox: credentials in sink URLs', () => {
  it('refuses a webhook URL that carries a user or password, without quoting it', async () => {
    const { file } = webhookSecret();
    const h = await startHarness();
    try {
      assert.throws(
        () => loadConfig(h.home, testOutbox([{ name: 'creds', kind: 'webhook', url: 'http://user:s3cret@127.0.0.1:9/hook', secretFile: file }])),
        (err: Error) => /webhook sink "creds" carries a user or password/.test(err.message) && !err.message.includes('s3cret'),
      );
    } finally {
      await h.close();
    }
  });

  it('names a NATS server without its password in delivery errors and in the described config', async () => {
    const url = `nats://writ:s3cret@127.0.0.1:${await freePort()}`;
    const h = await startHarness();
    try {
      const config = loadConfig(h.home, testOutbox([{ name: 'bus', kind: 'nats', url, timeoutMs: 500 }]));
      assert.doesNotMatch(JSON.stringify(describeConfig(config)), /s3cret/);
      const sink = openSink(config.outbox.sinks[0]);
      try {
        const row = { id: '0190a000-0000-7000-8000-000000000001', seq: 1, tenant: 't', scroll: 'commerce', index: 0, action: 'UpsertProduct', target: 'product/a', version: 1, type: 'product.upserted', data: '{}', ts: '2026-01-01T00:00:00Z' };
        const attempt = await sink.deliver(row, eventJson(row));
        assert.equal(attempt.ok, false, 'nothing listens on that port');
        assert.match(attempt.error ?? '', /NATS nats:\/\/\*\*\*@127\.0\.0\.1/);
        assert.doesNotMatch(attempt.error ?? '', /s3cret/);
      } finally {
        await sink.close();
      }
    } finally {
      await h.close();
    }
  });
});

