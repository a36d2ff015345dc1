import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { NatsServer, natsUnavailable, sharedNats } from './support/nats.js';

const skip = natsUnavailable();

describe('the NATS test server', { skip: skip ?? false }, () => {
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start();
  });
  after(async () => {
    await server?.close();
  });

  it('keeps JetStream messages across a crash and a restart on the same store', async () => {
    let nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'SUPPORT', subjects: ['support.>'] });
    const ack = await jetstream(nc).publish('support.a', 'one', { msgID: 'm-1' });
    assert.equal(ack.seq, 1);
    await nc.close();

    await server.stop('SIGKILL');
    assert.equal(server.running, false);
    await server.restart();

    nc = await connect({ servers: server.url });
    const info = await (await jetstreamManager(nc)).streams.info('SUPPORT');
    assert.equal(info.state.messages, 1);
    const again = await jetstream(nc).publish('support.a', 'one', { msgID: 'm-1' });
    assert.equal(again.duplicate, true, 'the same Nats-Msg-Id within the window is a duplicate');
    await nc.close();
  });

  it('gives a reachable shared server', async () => {
    const shared = await sharedNats();
    try {
      const nc = await connect({ servers: shared.url });
      const rtt = await nc.rtt();
      assert.ok(rtt >= 0);
      await nc.close();
    } finally {
      await shared.close();
    }
  });
});
