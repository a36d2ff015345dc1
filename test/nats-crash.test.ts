import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { NatsServer, natsUnavailable } from './support/nats.js';
import { AnswerCollector, drainedConsumer, eventually } from './support/nats-intake.js';
import { chainProblems, readLedgerOverHttp, ServerProcess, signedGet } from './support/robustness.js';

const skip = natsUnavailable();
const COMMANDS = 1000;

/**
 * Persist-before-ack across a crash: 1,000 commands are queued on NATS, `writ serve --nats` is
 * killed with SIGKILL while it works through them, and started again. Every command must be
 * applied exactly once and answered: what was committed before the kill but not acknowledged is
 * delivered again and answered as an idempotent replay; what was not committed is applied now.
 */
describe('NATS intake crash safety: writ killed with SIGKILL mid-queue', { skip: skip ?? false }, () => {
  let server: NatsServer;
  let home: string;
  const children: ServerProcess[] = [];

  before(async () => {
    server = await NatsServer.start();
    home = mkdtempSync(join(tmpdir(), 'writ-nats-crash-'));
    await initHome(home, { port: 0 });
    const file = join(home, 'config.json');
    // A short ack_wait so that the unacknowledged deliveries of the killed process come back quickly.
    const nats = { ackWaitMs: 2000, nakDelayMs: 200, maxInFlight: 256 };
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), limits: { rate: 100_000_000, windowSeconds: 60 }, nats }, null, 2));
  });

  after(async () => {
    for (const child of children) await child.kill();
    if (home) rmSync(home, { recursive: true, force: true });
    await server?.close();
  });

  it('applies every queued command exactly once and answers each, replaying those committed before the kill', async (t) => {
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { tenant: string };
    const tenant = config.tenant;
    const admin = { key: loadPrivateKey(readFileSync(join(home, 'keys', 'admin.key'), 'utf8')), keyId: ADMIN_KEY_ID };
    const sent = Array.from({ length: COMMANDS }, (_, i) => signEnvelope({ action: 'UpsertProduct', payload: { sku: `crash-${i}`, name: `Product ${i}`, price: { amount: i, currency: 'EUR' } } }, admin, { tenant }));
    const collector = await AnswerCollector.open(server.url, `writ.result.${tenant}.>`);
    try {
      let writ = await ServerProcess.start(home, 20_000, ['--nats', server.url]);
      children.push(writ);
      const nc = await connect({ servers: server.url });
      const js = jetstream(nc);
      for (let i = 0; i < sent.length; i += 100) await Promise.all(sent.slice(i, i + 100).map((s) => js.publish(`writ.cmd.${tenant}`, JSON.stringify(s.envelope))));
      await nc.close();

      // Kill once a share of the queue is answered (the moment is not asserted on, only that it was mid-way).
      await eventually('the first 200 answers', async () => (collector.answers.length >= 200 ? true : undefined), 60_000);
      await sleep(Math.random() * 200);
      await writ.kill();
      const beforeKill = new Map(collector.answers.map((a) => [a.body.requestId, a.text]));
      t.diagnostic(`answered before SIGKILL: ${beforeKill.size} of ${COMMANDS}`);
      assert.ok(beforeKill.size < COMMANDS, 'writ had finished the queue before it was killed; nothing was tested');

      writ = await ServerProcess.start(home, 20_000, ['--nats', server.url]);
      children.push(writ);
      const requestIds = sent.map((s) => s.envelope.requestId);
      await eventually('an answer for every command', async () => (requestIds.every((r) => collector.for(r).length > 0) ? true : undefined), 120_000);
      await drainedConsumer(server.url, 30_000);

      // Exactly once: one OK record per command, chains verify, each product at version 1.
      const ledger = await readLedgerOverHttp(writ.url, { ...admin, tenant });
      assert.deepEqual(chainProblems(ledger), []);
      const ok = new Map<string, number>();
      for (const e of ledger) if (e.record.outcome === 'OK' && e.record.action === 'UpsertProduct') ok.set(e.record.requestId, (ok.get(e.record.requestId) ?? 0) + 1);
      assert.deepEqual(ledger.filter((e) => e.record.outcome !== 'OK').map((e) => `${e.record.requestId} ${e.record.code}`), [], 'no command was rejected');
      for (const r of requestIds) assert.equal(ok.get(r), 1, `${r} has ${ok.get(r) ?? 0} OK records`);
      for (const i of [0, Math.floor(COMMANDS / 2), COMMANDS - 1]) {
        const entity = (await (await signedGet(writ.url, `/v1/entities/${tenant}/product/crash-${i}`, { ...admin, tenant })).json()) as { version: number };
        assert.equal(entity.version, 1);
      }

      // Every answer is OK; each command has one first answer, and any later one is its replay, byte for byte.
      let replays = 0;
      for (const r of requestIds) {
        const answers = collector.for(r);
        assert.ok(answers.every((a) => a.status === 200 && a.body.status === 'OK'), `${r}: ${answers.map((a) => a.text).join(' / ')}`);
        assert.equal(answers.filter((a) => !a.replayed).length <= 1, true, `${r} was answered as applied ${answers.filter((a) => !a.replayed).length} times`);
        assert.ok(answers.every((a) => a.text === answers[0].text), `${r}: answers differ`);
        const stored = await (await signedGet(writ.url, `/v1/commands/${tenant}/${r}`, { ...admin, tenant })).text();
        assert.equal(answers[0].text, stored, `${r}: the answer is not the stored outcome`);
        replays += answers.filter((a) => a.replayed).length;
      }
      // An answer seen before the kill was durable: the restarted writ holds exactly that outcome.
      for (const [r, text] of beforeKill) assert.equal(collector.for(r!)[0].text, text);
      t.diagnostic(`answers: ${collector.answers.length}, of which replays after the restart: ${replays}`);
      await writ.stop();
    } finally {
      await collector.close();
    }
  });
});
