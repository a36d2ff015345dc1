import type { SinkConfig } from '../../config/config.js';
import type { Sink } from '../sink.js';
import { NatsSink } from './nats.js';
import { NdjsonSink } from './ndjson.js';
import { WebhookSink } from './webhook.js';

/** The sink a configuration names. Throws (naming the sink and the fix) when it cannot be set up. */
export function openSink(config: SinkConfig): Sink {
  switch (config.kind) {
    case 'webhook':
      return new WebhookSink(config);
    case 'nats':
      return new NatsSink(config);
    case 'ndjson':
      return new NdjsonSink(config);
  }
}

/**
 * Sets every configured sink up and closes it again, so that one that cannot be set up (a short
 * webhook secret) stops writ at start in every process, as it does a sole writer, and not only later
 * in the process that takes the outbox lease.
 */
export async function checkSinks(configs: readonly SinkConfig[]): Promise<void> {
  for (const config of configs) await openSink(config).close();
}
