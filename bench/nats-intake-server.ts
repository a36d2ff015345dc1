import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { loadConfig } from '../src/config/config.js';
import { NatsIntake } from '../src/transports/nats/intake.js';
import { ensureConsumer, ensureStream } from '../src/transports/nats/stream.js';
import { openWrit } from '../src/writ.js';

/**
 * The server side of the NATS intake benchmark, in its own process: `writ <home> <url>` runs writ's
 * intake on a prepared home; `echo <home> <url>` consumes the same kind of work queue (same stream
 * and consumer settings, same ack and answer per message) but answers each message with its own
 * body and no pipeline: the raw limit of NATS round trips on this machine.
 */
const [mode, home, url] = process.argv.slice(2);
const config = loadConfig(home);
const options = { ...config.nats, url };
if (mode === 'writ') {
  const writ = await openWrit(config);
  const intake = await NatsIntake.start(options, writ.pipeline);
  process.stdout.write(JSON.stringify({ durability: writ.store.durability }) + '\n');
  process.on('SIGTERM', () => void intake.close().then(() => writ.close()).then(() => process.exit(0)));
} else {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, options);
  await ensureConsumer(jsm, options);
  const messages = await (await jetstream(nc).consumers.get(options.stream, options.durable)).consume({ max_messages: options.maxInFlight });
  process.stdout.write(JSON.stringify({ durability: 'none (echo)' }) + '\n');
  process.on('SIGTERM', () => void messages.close().then(() => nc.drain()).then(() => process.exit(0)));
  for await (const m of messages) {
    const h = headers();
    h.set('Writ-Status', '200');
    nc.publish(m.headers!.get('Writ-Reply-To'), m.data, { headers: h });
    m.ack();
  }
}
