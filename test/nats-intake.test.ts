import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { loadConfig } from '../src/config/config.js';
import { CODES } from '../src/core/codes.js';
import { NatsCommandClient } from '../src/transports/nats/client.js';
import { NatsIntake, type NatsIntakeOptions } from '../src/transports/nats/intake.js';
import { runWrit } from './support/cli.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';
import { NatsServer, natsUnavailable } from './support/nats.js';
import { AnswerCollector, consumerInfo, drainedConsumer, eventually } from './support/nats-intake.js';
import { checkAnswer, readLedgerFromStore } from './support/robustness.js';
import { Scrape } from './support/prometheus.js';
import { registerNatsFamilies } from '../src/metrics/transport-families.js';

const skip = natsUnavailable();

/**
 * The NATS command intake (DESIGN §7) against a real nats-server with JetStream: commands arrive on
 * `writ.cmd.<tenant>`, run through the same pipeline as HTTP, are answered on the Writ-Reply-To
 * subject or `writ.result.<tenant>.<requestId>`, and are acknowledged only once answered.
 */
describe('the NATS command intake', { skip: skip ?? false }, () => {
  let server: NatsServer;
  let h: Harness;
  let intake: NatsIntake;
  let client: NatsCommandClient;
  let options: NatsIntakeOptions;

  const product = (sku: string, extra: Record<string, unknown> = {}) => h.sign('UpsertProduct', { sku, name: `Product ${sku}`, price: { amount: 100, currency: 'EUR' } }, extra);
  const okRecords = async (requestId: string) => (await readLedgerFromStore(h.writ.store)).filter((e) => e.record.requestId === requestId && e.record.outcome === 'OK');

  before(async () => {
    server = await NatsServer.start();
    // Rate limits out of the way: the shutdown test queues hundreds of commands of one actor.
    h = await startHarness({ limits: { rate: 100_000_000, windowSeconds: 60 }, nats: { url: server.url, ackWaitMs: 2000, nakDelayMs: 200 } });
    const config = loadConfig(h.home);
    options = { ...config.nats, url: server.url };
    intake = await NatsIntake.start(options, h.writ.pipeline);
    client = await NatsCommandClient.connect(server.url);
  });

  after(async () => {
    await client?.close();
    await intake?.close();
    await h?.close();
    await server?.close();
  });

  it('applies a command and answers on its Writ-Reply-To subject, as POST /v1/commands would', async () => {
    const env = product('nats-1');
    const a = await client.submit(h.tenant, JSON.stringify(env));
    const body = checkAnswer(a.status, 'application/json', a.text, 'NATS answer');
    assert.equal(a.status, 200);
    assert.equal(body.status, 'OK');
    assert.equal(body.requestId, env.requestId);
    assert.equal(a.replayed, false);
    const entity = await h.get(`/v1/entities/${h.tenant}/product/nats-1`);
    assert.equal(entity.status, 200);
    assert.equal(entity.body.version, 1);
    assert.equal(entity.body.index, body.receipt?.index);
    const stored = await h.get(`/v1/commands/${h.tenant}/${env.requestId}`);
    assert.equal(JSON.stringify(stored.body), a.text, 'the stored outcome is the answer sent over NATS');
  });

  it('shows its state and counters in GET /metrics, as writ serve --nats attaches it', async () => {
    h.writ.metrics.attach('nats', intake, registerNatsFamilies);
    assert.equal((await client.submit(h.tenant, JSON.stringify(product('nats-metrics')))).status, 200);
    const s = new Scrape(String((await h.get('/metrics')).body));
    const status = intake.status();
    assert.equal(s.value('writ_nats_intake_state', { state: 'connected' }), 1);
    assert.equal(s.value('writ_nats_intake_state', { state: 'closed' }), 0);
    assert.equal(s.value('writ_nats_intake_received_total'), status.received);
    assert.equal(s.value('writ_nats_intake_acked_total'), status.acked);
    assert.equal(s.value('writ_nats_intake_in_flight'), status.inFlight);
    assert.ok(s.value('writ_commands_total', { action: 'UpsertProduct', outcome: 'ok', code: '' }) >= 1, 'commands from NATS are counted with those from HTTP');
  });

  it('answers on <resultPrefix>.<tenant>.<requestId> when the message names no reply subject', async () => {
    const collector = await AnswerCollector.open(server.url, `writ.result.${h.tenant}.>`);
    try {
      const env = product('nats-2');
      const nc = await connect({ servers: server.url });
      const ack = await jetstream(nc).publish(`writ.cmd.${h.tenant}`, JSON.stringify(env));
      assert.equal(ack.stream, 'WRIT_COMMANDS');
      await nc.close();
      const [answer] = await eventually('the answer on the result subject', async () => (collector.for(env.requestId).length ? collector.for(env.requestId) : undefined));
      assert.equal(answer.subject, `writ.result.${h.tenant}.${env.requestId}`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'OK');
      assert.equal((await okRecords(env.requestId)).length, 1);
    } finally {
      await collector.close();
    }
  });

  it('answers invalid messages with their error code and acknowledges them, so none is delivered again', async () => {
    const stranger = newSigner('stranger#1');
    const cases: Array<{ what: string; body: string; code: string; status: number }> = [
      { what: 'not JSON', body: '{"v":1,', code: 'INVALID_ENVELOPE', status: 400 },
      { what: 'an unknown field', body: JSON.stringify({ ...product('nats-3'), extra: 1 }), code: 'INVALID_ENVELOPE', status: 400 },
      { what: 'a bad signature', body: JSON.stringify({ ...product('nats-4'), payload: { sku: 'nats-4', name: 'changed after signing', price: { amount: 1, currency: 'EUR' } } }), code: 'BAD_SIGNATURE', status: 401 },
      { what: 'an unknown key', body: JSON.stringify(h.sign('UpsertProduct', { sku: 'nats-5', name: 'x', price: { amount: 1, currency: 'EUR' } }, { actor: 'stranger' }, stranger)), code: 'UNKNOWN_KEY', status: 401 },
      { what: 'an invalid payload', body: JSON.stringify(h.sign('UpsertProduct', { sku: 'nats-6' })), code: 'INVALID_PAYLOAD', status: 400 },
      { what: 'an unknown action', body: JSON.stringify(h.sign('NoSuchAction', {})), code: 'UNKNOWN_ACTION', status: 400 },
    ];
    for (const c of cases) {
      const a = await client.submit(h.tenant, c.body);
      checkAnswer(a.status, 'application/json', a.text, c.what);
      assert.equal(a.body.code, c.code, `${c.what}: ${a.text}`);
      assert.equal(a.status, c.status, c.what);
    }
    const info = await drainedConsumer(server.url);
    assert.equal(info.num_redelivered, 0, 'no message was delivered twice');
    assert.equal(info.num_pending + info.num_ack_pending, 0);
    const nc = await connect({ servers: server.url });
    const stream = await (await jetstreamManager(nc)).streams.info('WRIT_COMMANDS');
    await nc.close();
    assert.equal(stream.state.messages, 0, 'the work queue removed every acknowledged message');
  });

  it('refuses a command published on another tenant\'s subject, storing nothing', async () => {
    const env = product('nats-7');
    const wrong = await client.submit('other-tenant', JSON.stringify(env));
    assert.equal(wrong.body.code, 'TENANT_MISMATCH', wrong.text);
    assert.equal(wrong.status, 400);
    assert.equal((await h.get(`/v1/commands/${h.tenant}/${env.requestId}`)).status, 404, 'the refusal was not stored as the outcome');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/nats-7`)).status, 404);
    const right = await client.submit(h.tenant, JSON.stringify(env));
    assert.equal(right.body.status, 'OK', right.text);
    assert.equal(right.replayed, false, 'the same envelope on its own subject runs for the first time');
  });

  it('answers a command published again as an idempotent replay, applied once', async () => {
    const env = JSON.stringify(product('nats-8'));
    const first = await client.submit(h.tenant, env);
    const second = await client.submit(h.tenant, env);
    assert.equal(first.replayed, false);
    assert.equal(second.replayed, true);
    assert.equal(second.text, first.text, 'the replay is the stored answer byte for byte');
    assert.equal((await okRecords(JSON.parse(env).requestId)).length, 1);
  });

  it('answers a message redelivered after its command was committed but not acknowledged as a replay, applied once', async () => {
    // Take one delivery of the message by hand and commit its command over HTTP without acking it,
    // as a writ that crashed between commit and ack would: the server must deliver it again.
    await intake.close();
    const env = product('nats-9');
    const nc = await connect({ servers: server.url });
    try {
      const h1 = headers();
      h1.set('Writ-Reply-To', 'test.redelivery.answer');
      const sub = nc.subscribe('test.redelivery.answer', { max: 1 });
      await jetstream(nc).publish(`writ.cmd.${h.tenant}`, JSON.stringify(env), { headers: h1 });
      const consumer = await jetstream(nc).consumers.get('WRIT_COMMANDS', 'writ-intake');
      const m = await consumer.next({ expires: 5000 });
      assert.ok(m, 'the message was delivered');
      assert.equal(m.info.deliveryCount, 1);
      const applied = await h.post(m.string());
      assert.equal(applied.status, 200, applied.raw);
      intake = await NatsIntake.start(options, h.writ.pipeline);
      let answer: { text: string; replayed: boolean; status: string } | undefined;
      for await (const a of sub) answer = { text: a.string(), replayed: a.headers?.get('Idempotent-Replayed') === 'true', status: a.headers?.get('Writ-Status') ?? '' };
      assert.ok(answer);
      assert.equal(answer.replayed, true, 'the redelivery is answered as a replay');
      assert.equal(answer.status, '200');
      assert.equal(answer.text, applied.raw, 'with the stored answer byte for byte');
      assert.equal((await okRecords(env.requestId)).length, 1, 'applied once');
      assert.equal(intake.status().replays, 1, 'the new intake answered it from the stored outcome');
      await drainedConsumer(server.url);
    } finally {
      await nc.close();
    }
  });

  it('asks for more time while a command waits on the store past ack_wait, so the message is not delivered twice', async () => {
    // Another connection holds SQLite's write lock for longer than ack_wait (2 s here) but less than
    // the writer's busy timeout (5 s): the command is in flight for about 3.5 s. Without working()
    // the server would deliver the message again after 2 s.
    const before = await drainedConsumer(server.url);
    const blocker = new Database(h.writ.config.store.path);
    blocker.pragma('busy_timeout = 5000');
    blocker.exec('BEGIN IMMEDIATE');
    let released = false;
    try {
      const env = product('nats-slow');
      const pending = client.submit(h.tenant, JSON.stringify(env), { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(intake.status().inFlight, 1, 'the command is still being applied');
      blocker.exec('COMMIT');
      released = true;
      const a = await pending;
      assert.equal(a.status, 200, a.text);
      assert.equal(a.replayed, false);
      assert.equal((await okRecords(env.requestId)).length, 1, 'applied once');
      const after = await drainedConsumer(server.url);
      assert.equal(after.num_redelivered, before.num_redelivered, 'no delivery of the message beyond the first');
      assert.equal(after.delivered.consumer_seq - before.delivered.consumer_seq, 1, 'delivered exactly once');
    } finally {
      if (!released) blocker.exec('ROLLBACK');
      blocker.close();
    }
  });

  it('shuts down cleanly: commands in flight finish and are acknowledged, the rest stay queued for the next start', async (t) => {
    const collector = await AnswerCollector.open(server.url, `writ.result.${h.tenant}.>`);
    try {
      // Few in flight at once (the consumer's max_ack_pending follows), so that most are still queued at
      // the close; a NAK delay longer than the close, so that no handed-back command comes back meanwhile.
      await intake.close();
      intake = await NatsIntake.start({ ...options, maxInFlight: 8, nakDelayMs: 3000 }, h.writ.pipeline);
      const envs = Array.from({ length: 300 }, (_, i) => product(`nats-stop-${i}`));
      const nc = await connect({ servers: server.url });
      const js = jetstream(nc);
      await Promise.all(envs.map((e) => js.publish(`writ.cmd.${h.tenant}`, JSON.stringify(e))));
      await nc.close();
      await eventually('the first answers', async () => (collector.answers.length >= 20 ? true : undefined));
      const closed = intake;
      await intake.close();
      const answeredAtClose = collector.answers.length;
      assert.ok(answeredAtClose < envs.length, 'every command was answered before the close; nothing was left to queue');
      const info = await consumerInfo(server.url);
      // Every delivery the closed intake took was either answered and acknowledged, or NAKed back to the
      // queue (those count as ack-pending on the server until they are delivered again); none was dropped.
      const s = closed.status();
      assert.equal(s.inFlight, 0);
      assert.equal(s.state, 'closed');
      assert.equal(s.lastError, null, JSON.stringify(s.lastError));
      assert.equal(s.acked, answeredAtClose, 'each answer was acknowledged');
      assert.equal(s.received, s.acked + s.nakked, 'a delivery was neither acknowledged nor handed back');
      // The server may have had a few more on the wire when the connection closed (its consumer runs
      // apart from the connection): those come back after ack_wait, which the restart below waits out.
      assert.ok(info.num_ack_pending >= s.nakked, 'a NAK did not reach the server');
      t.diagnostic(`at the close: ${s.acked} answered and acknowledged, ${s.nakked} handed back, ${info.num_ack_pending - s.nakked} on the wire (back after ack_wait)`);
      assert.equal(info.num_pending + info.num_ack_pending, envs.length - answeredAtClose, 'what was not answered is still queued');
      intake = await NatsIntake.start(options, h.writ.pipeline);
      assert.equal((await consumerInfo(server.url)).config.max_ack_pending, options.maxInFlight, 'the consumer follows nats.maxInFlight');
      await eventually('an answer for every command', async () => (envs.every((e) => collector.for(e.requestId).length > 0) ? true : undefined));
      for (const e of envs) {
        assert.equal(collector.for(e.requestId)[0].body.status, 'OK', collector.for(e.requestId)[0].text);
        assert.equal(collector.for(e.requestId).length, 1, `${e.requestId} answered ${collector.for(e.requestId).length} times`);
        assert.equal((await okRecords(e.requestId)).length, 1);
      }
      await drainedConsumer(server.url);
    } finally {
      await collector.close();
    }
  });

  it('shows its state in /healthz', async () => {
    const { buildServer } = await import('../src/transports/http/server.js');
    const app = buildServer(h.writ, { health: { nats: () => intake.status() } });
    try {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { authorization: h.readAuth('GET', '/healthz') } });
      const nats = (JSON.parse(res.body) as { nats: Record<string, unknown> }).nats;
      assert.equal(nats.state, 'connected');
      assert.equal(nats.stream, 'WRIT_COMMANDS');
      assert.equal(nats.consumer, 'writ-intake');
      assert.equal(nats.inFlight, 0);
      assert.equal(typeof nats.acked, 'number');
      assert.ok((nats.acked as number) >= 1, JSON.stringify(nats));
    } finally {
      await app.close();
    }
  });

  it('submits from the CLI with `writ submit --nats`, exiting with the answer\'s exit code', async () => {
    const input = JSON.stringify({ action: 'UpsertProduct', payload: { sku: 'nats-cli', name: 'From the CLI', price: { amount: 5, currency: 'EUR' } } });
    const ok = await runWrit(['--home', h.home, 'submit', '--nats', server.url, '-'], { input });
    assert.equal(ok.code, 0, ok.stderr);
    const answer = JSON.parse(ok.stdout) as { status: string; requestId: string };
    assert.equal(answer.status, 'OK');
    assert.equal((await okRecords(answer.requestId)).length, 1);
    const bad = await runWrit(['--home', h.home, 'submit', '--nats', server.url, '-'], { input: JSON.stringify({ action: 'UpsertProduct', payload: { sku: 'nats-cli-2' } }) });
    assert.equal(bad.code, CODES.INVALID_PAYLOAD.exit, bad.stdout + bad.stderr);
    const unreachable = await runWrit(['--home', h.home, 'submit', '--nats', 'nats://127.0.0.1:1', '-'], { input });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('refuses to start on a stream that is not a work queue over its subjects, saying what to do', async () => {
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: 'LIMITS', subjects: ['limits.>'], retention: RetentionPolicy.Limits });
    } finally {
      await nc.close();
    }
    await assert.rejects(NatsIntake.start({ ...options, stream: 'LIMITS', subjectPrefix: 'limits' }, h.writ.pipeline), /stream LIMITS exists but its retention is "limits", not "workqueue".*delete it/);
    await assert.rejects(NatsIntake.start({ ...options, url: 'nats://127.0.0.1:1' }, h.writ.pipeline), /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('resumes taking commands after the NATS server is restarted', async () => {
    await server.stop('SIGKILL');
    await eventually('the intake noticing', async () => (intake.status().state !== 'connected' ? true : undefined));
    await server.restart();
    await eventually('the intake reconnecting', async () => (intake.status().state === 'connected' ? true : undefined));
    const env = product('nats-10');
    const a = await eventually('a command answered after the restart', async () => {
      const c = await NatsCommandClient.connect(server.url);
      try {
        return await c.submit(h.tenant, JSON.stringify(env), { timeoutMs: 5000 });
      } finally {
        await c.close();
      }
    }, 30_000);
    assert.equal(a.body.status, 'OK', a.text);
    assert.equal((await okRecords(env.requestId)).length, 1);
    await drainedConsumer(server.url);
    assert.ok((await consumerInfo(server.url)).num_ack_pending === 0);
  });
});
