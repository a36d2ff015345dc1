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
