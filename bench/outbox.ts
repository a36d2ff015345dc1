import type { NatsSinkConfig, SinkConfig } from '../src/config/config.js';
import { eventJson, type Attempt, type Sink } from '../src/outbox/sink.js';
import { NatsSink } from '../src/outbox/sinks/nats.js';
import type { StoredOutboxRow } from '../src/store/port.js';
import { NatsServer, natsServerBinary, natsServerVersion } from '../test/support/nats.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/** Times every acknowledged delivery of a real sink: commit (event ts) to publish acknowledgement. */
class TimedSink implements Sink {
  readonly kind;
  readonly concurrency;
  readonly lags: number[] = [];
  lastAckAt = 0;

  constructor(private readonly inner: Sink) {
    this.kind = inner.kind;
    this.concurrency = inner.concurrency;
  }

  async deliver(event: StoredOutboxRow, json: string): Promise<Attempt> {
    const a = await this.inner.deliver(event, json);
    if (a.ok) {
      this.lastAckAt = Date.now();
      this.lags.push(this.lastAckAt - Date.parse(event.ts));
    }
    return a;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The raw limit: the same client publishing to the same server with the same window, no dispatcher. */
async function rawPublish(config: NatsSinkConfig, count: number): Promise<number> {
  const sink = new NatsSink({ ...config, name: 'raw', stream: 'WRIT_BENCH_RAW', subjectPrefix: 'bench.raw' });
  const rows: StoredOutboxRow[] = Array.from({ length: count }, (_, i) => ({ seq: i + 1, id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, tenant: 't', scroll: 'commerce', index: i, action: 'UpsertProduct', target: `product/p-${i}`, version: 1, type: 'product.upserted', data: JSON.stringify({ actor: 'admin', requestId: `r${i}`, result: null, doc: { sku: `p-${i}`, name: `Product ${i}`, price: { amount: i, currency: 'EUR' } } }), ts: new Date().toISOString() }));
  await sink.deliver(rows[0], eventJson(rows[0]));
  const run = await runConcurrent(rows.slice(1), config.concurrency, async (row) => {
    const a = await sink.deliver(row, eventJson(row));
    if (!a.ok) throw new Error(a.error);
  });
  await sink.close();
  return (count - 1) / run.seconds;
}

/**
 * Outbox delivery to a real nats-server (JetStream, file storage) while the pipeline runs at load:
 * signed commands go in with 512 in flight, each applied command's event is published by the
 * dispatcher. events_per_s counts from the first command to the last acknowledgement; lag is commit
 * to acknowledgement per event. The same load without a sink gives the apply rate the dispatcher
 * is compared with, and the sink's own client publishing without the dispatcher gives the raw limit.
 */
export async function benchOutboxNats(count: number): Promise<void> {
  if (!natsServerBinary()) {
    emit({ bench: 'outbox_nats', skipped: true, reason: 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER)' });
    return;
  }
  const server = await NatsServer.start();
  const h = await benchHome();
  try {
    const sinkConfig = { name: 'bench', kind: 'nats', url: server.url, stream: 'WRIT_BENCH', subjectPrefix: 'bench.ev', timeoutMs: 10_000, concurrency: 1024, maxAttempts: 10, filter: {} } as const;
    const raw = await rawPublish(sinkConfig, count);

    // Baseline: the same load with the dispatcher off.
    const off = await h.open({ ...BENCH_CONFIG, outbox: { enabled: false } });
    const warm = signedProducts(h.admin, h.tenant, 300, 'warm');
    await runConcurrent(warm, 64, async (body) => void (await off.pipeline.submit({ body, receivedAt: Date.now() })));
    const baseline = await runConcurrent(signedProducts(h.admin, h.tenant, count, 'base'), 512, async (body) => void (await off.pipeline.submit({ body, receivedAt: Date.now() })));
    await off.close();

    let timed: TimedSink | undefined;
    const writ = await (await import('../src/writ.js')).openWrit(
      (await import('../src/config/config.js')).loadConfig(h.home, { ...BENCH_CONFIG, outbox: { sinks: [sinkConfig as unknown as SinkConfig] } }),
      { openSink: (c) => (timed = new TimedSink(new NatsSink(c as NatsSinkConfig))) },
    );
    try {
      // Catch up on the history (init, warm-up, baseline) first; then measure the load.
      const headBefore = await writ.store.outboxHead();
      while (writ.outbox!.runners[0].cursor < headBefore) await new Promise((r) => setTimeout(r, 20));
      timed!.lags.length = 0;
      const bodies = signedProducts(h.admin, h.tenant, count, 'load');
      let failures = 0;
      const t0 = Date.now();
      const load = await runConcurrent(bodies, 512, async (body) => {
        if ((await writ.pipeline.submit({ body, receivedAt: Date.now() })).httpStatus !== 200) failures++;
      });
      const head = await writ.store.outboxHead();
      while (writ.outbox!.runners[0].cursor < head) await new Promise((r) => setTimeout(r, 5));
      const seconds = (timed!.lastAckAt - t0) / 1000;
      const lags = [...timed!.lags].sort((a, b) => a - b);
      const applyPerS = count / load.seconds;
      const basePerS = count / baseline.seconds;
      emit({
        bench: 'outbox_nats',
        durability: `${writ.store.durability}; JetStream file storage, publish acknowledged before delivered; cursor flushed every ${writ.config.outbox.flushMs} ms`,
        nats_server: natsServerVersion(),
        events: lags.length,
        events_per_s: Math.round(lags.length / seconds),
        lag_p50_ms: round(percentile(lags, 50)),
        lag_p99_ms: round(percentile(lags, 99)),
        raw_publish_per_s: Math.round(raw),
        ratio_to_raw: round(lags.length / seconds / raw, 3),
        apply_cmds_per_s: Math.round(applyPerS),
        apply_cmds_per_s_without_outbox: Math.round(basePerS),
        apply_ratio: round(applyPerS / basePerS, 3),
        failures,
      });
    } finally {
      await writ.close();
    }
  } finally {
    h.dispose();
    await server.close();
  }
}
