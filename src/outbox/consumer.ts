import type { RunningConsumer } from '../catalog/pack-runtime.js';
import type { OutboxConfig, SinkConfig } from '../config/config.js';
import type { Lease } from '../store/shared.js';
import { Dispatcher, type DispatcherDeps } from './dispatcher.js';
import { leaseDispatcher } from './leased.js';
import type { Sink } from './sink.js';

/**
 * A pack's outbox consumer (JobContext.consume): a dispatcher of its own with the one sink, whose
 * cursor `name` is kept like a configured sink's. Its maxAttempts bounds deliveries writ itself
 * refused (closing); the job bounds its own work. Beside other processes it runs only where the
 * outbox lease is held (`lease`), so the consumer acts from one process.
 */
export async function openConsumer(
  deps: { readonly store: DispatcherDeps['store']; readonly outbox: OutboxConfig; readonly now: () => number; readonly lease?: Lease },
  name: string,
  actions: readonly string[],
  sink: Sink,
): Promise<RunningConsumer> {
  const sinkConfig: SinkConfig = { name, kind: 'ndjson', path: '', fsync: 'never', filter: { actions: [...actions] }, maxAttempts: 1000 };
  const open = (term?: number) => Dispatcher.open({ store: deps.store, config: { ...deps.outbox, sinks: [sinkConfig] }, now: deps.now, open: () => sink, term });
  if (deps.lease) {
    let current: Dispatcher | null = null;
    const following = leaseDispatcher(deps.lease, open, (d) => (current = d));
    return { wake: () => current?.wake(), close: () => following.close() };
  }
  const consumer = await open();
  consumer.start();
  return { wake: () => consumer.wake(), close: () => consumer.close() };
}
