import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { NatsCommandClient } from '../src/transports/nats/client.js';
import { NatsIntake } from '../src/transports/nats/intake.js';
import { NatsServer, natsUnavailable } from './support/nats.js';
import { drainedConsumer } from './support/nats-intake.js';
import { approve, calls, cluster, clusterExecutor, opEnds, startOpsHome, type OpsHome } from './support/ops.js';

const skip = natsUnavailable();

/**
 * Ops over the NATS work queue (DESIGN §7; the seed's ops.pending queue): a SubmitOp published on
 * writ.cmd.<tenant> goes through the same pipeline and policy as over HTTP, is acknowledged only
 * once its outcome is durable (persist before ack), and the effector runs it.
 */
describe('ops over the NATS work queue', { skip: skip ?? false }, () => {
  let server: NatsServer;
  let o: OpsHome;
  let intake: NatsIntake;
  let client: NatsCommandClient;

  before(async () => {
    server = await NatsServer.start();
    o = await startOpsHome('hybrid', (state) => ({ restart: clusterExecutor(state), deploy: clusterExecutor(state) }));
    intake = await NatsIntake.start({ ...loadConfig(o.h.home).nats, url: server.url }, o.h.writ.pipeline);
    client = await NatsCommandClient.connect(server.url);
  });
  after(async () => {
    await client?.close();
    await intake?.close();
    await o?.h.close();
    await server?.close();
  });

  it('runs a restart published on the queue once it is durable, and acknowledges the message', async () => {
    const { h } = o;
    const env = h.sign('SubmitOp', { id: 'rs-nats', kind: 'restart', workspace: 'edge', resource: 'cache', parameters: {} }, {}, o.operator);
    const a = await client.submit(h.tenant, JSON.stringify(env));
    assert.equal(a.status, 200, a.text);
    const op = await opEnds(h, 'rs-nats');
    assert.equal(op.status, 'succeeded');
    assert.equal(op.requestId, env.requestId);
    assert.equal(cluster(o.state).resources['edge/cache'].restarts, 1);
    const info = await drainedConsumer(server.url);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  it('holds a deploy published on the queue for approvers (acknowledged as held), and runs it once at quorum', async () => {
    const { h } = o;
    const env = h.sign('SubmitOp', { id: 'dep-nats', kind: 'deploy', workspace: 'edge', resource: 'cache', parameters: { version: '9.1' } }, {}, o.operator);
    const a = await client.submit(h.tenant, JSON.stringify(env));
    assert.equal(a.status, 202, a.text);
    const held = JSON.parse(a.text);
    assert.equal((await drainedConsumer(server.url)).num_ack_pending, 0, 'the held command is persisted, so its message is acknowledged');
    for (const approver of o.approvers.slice(0, 2)) assert.equal((await approve(h, approver, held.approval.id, held.commandHash)).status, 200);
    assert.equal((await opEnds(h, 'dep-nats')).status, 'succeeded');
    assert.equal(calls(o.state).filter((c) => c.op === 'dep-nats').length, 1);
  });
});
