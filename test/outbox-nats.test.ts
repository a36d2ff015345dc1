import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { decodeSubjectToken, eventSubject, subjectToken } from '../src/outbox/subject.js';
import { describeEachBackend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';
import { NatsServer, natsUnavailable, streamMessages } from './support/nats.js';
import { orderViolation, testOutbox, waitUntil } from './support/outbox.js';

const skip = natsUnavailable();

async function upserts(h: Harness, skus: readonly string[], rounds: number, from = 0): Promise<void> {
  for (let n = from; n < from + rounds; n++) {
    for (const sku of skus) {
      const r = await h.post(h.sign('UpsertProduct', { sku, name: `${sku} #${n}`, price: { amount: n, currency: 'EUR' } }));
      assert.equal(r.status, 200, r.raw);
    }
  }
}

describe('outbox: subject tokens', () => {
  it('maps every name to one valid token, one-to-one', () => {
    assert.equal(subjectToken('writ.Approve'), 'writ_2EApprove');
    assert.equal(subjectToken('a_b'), 'a_5Fb');
    assert.notEqual(subjectToken('a.b'), subjectToken('a_b'));
    for (const name of ['writ.Approve', 'acme.eu', 'x*y>z', 'ü $', '', 'UpsertProduct']) {
      assert.match(subjectToken(name), /^[A-Za-z0-9_-]+$/);
      assert.equal(decodeSubjectToken(subjectToken(name)), name);
    }
    assert.equal(eventSubject('writ.events', { tenant: 'acme', scroll: 'writ', action: 'writ.RegisterKey' }), 'writ.events.acme.writ.writ_2ERegisterKey');
  });
});

describeEachBackend('outbox: NATS JetStream sink', (backend) => describe('on a real nats-server', { skip: skip ?? false }, () => {
  let server: NatsServer;
  let h: Harness;

  before(async () => {
    server = await NatsServer.start();
    const common = { kind: 'nats', url: server.url, timeoutMs: 300 };
    h = await startHarness(
      testOutbox([
        { ...common, name: 'durable', stream: 'EV_A', subjectPrefix: 'a.ev', maxAttempts: 1000 },
        { ...common, name: 'fragile', stream: 'EV_B', subjectPrefix: 'b.ev', maxAttempts: 3 },
      ]),
      { backend },
    );
  });

  after(async () => {
    await h?.close();
    await server?.close();
  });

  it('creates the stream and publishes every event with Nats-Msg-Id = event id on its mapped subject', async () => {
    await h.actor('bob');
    await upserts(h, ['a', 'b', 'c'], 5);
    const head = await h.writ.store.outboxHead();
    await waitUntil(async () => (await streamMessages(server.url, 'EV_A')).length === head, 'stream EV_A holds every event');
    const got = await streamMessages(server.url, 'EV_A');
    const rows = await h.writ.store.readOutbox(0, 1000);
    assert.deepEqual(got.map((m) => m.msgId).sort(), rows.map((r) => r.id).sort());
    for (const m of got) {
      assert.equal(m.msgId, m.body.id);
      assert.equal(m.subject, eventSubject('a.ev', m.body));
    }
    assert.ok(got.some((m) => m.subject.endsWith('.writ_2ERegisterKey')), 'a writ.* action maps to one token');
    assert.equal(orderViolation(got), null);
  });

  it('loses nothing while the server is down, dead-letters on a sink with few attempts, and redrive delivers', async () => {
    await waitUntil(async () => (await streamMessages(server.url, 'EV_B')).length === (await h.writ.store.outboxHead()), 'EV_B caught up');
    await server.stop('SIGKILL');
    await upserts(h, ['a', 'b', 'd'], 4, 100);
    const head = await h.writ.store.outboxHead();
    await waitUntil(async () => (await h.writ.store.deadLetters('fragile', 1000)).length > 0, 'the fragile sink dead-letters while the server is down');
    // Events keep failing on the durable sink, which retries without giving up.
    const status = (await h.get('/v1/outbox/sinks')).body.sinks as Array<{ name: string; lagEvents: number; lastError: { message: string } | null }>;
    const durable = status.find((s) => s.name === 'durable')!;
    assert.ok(durable.lagEvents > 0);
    assert.ok(durable.lastError, 'the durable sink reports its last error');

    await server.restart();
    await waitUntil(async () => (await streamMessages(server.url, 'EV_A')).length >= head, 'the durable sink delivers everything after the server is back', 30_000);
    const a = await streamMessages(server.url, 'EV_A');
    assert.equal(new Set(a.map((m) => m.msgId)).size, head, 'each event exactly once in the stream (Nats-Msg-Id de-duplicates)');
    assert.equal(orderViolation(a), null);

    await waitUntil(() => h.writ.outbox!.runners.find((r) => r.name === 'fragile')!.cursor === head, 'the fragile sink moved past its dead letters');
    await h.writ.outbox!.flush();
    const dead = await h.writ.store.deadLetters('fragile', 1000);
    assert.ok(dead.length > 0);
    assert.ok(dead.every((d) => d.attempts === 3 && /NATS/.test(d.lastError)));
    const r = await h.app.inject({ method: 'POST', url: '/v1/outbox/dead-letters/redrive?sink=fragile', headers: { authorization: h.readAuth('POST', '/v1/outbox/dead-letters/redrive?sink=fragile') } });
    assert.equal(JSON.parse(r.body).marked, dead.length);
    await waitUntil(async () => new Set((await streamMessages(server.url, 'EV_B')).map((m) => m.msgId)).size === head, 'redrive fills EV_B', 30_000);
    await waitUntil(async () => (await h.writ.store.deadLetters('fragile', 1000)).length === 0, 'no dead letter is left');
  });
}));
