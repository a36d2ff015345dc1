import { jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';

/** Helpers for the NATS intake suites: consumer counts and answers collected from result subjects. */

/** The durable consumer's info, read on a connection of the test's own. */
export async function consumerInfo(url: string, stream = 'WRIT_COMMANDS', durable = 'writ-intake'): Promise<ConsumerInfo> {
  const nc = await connect({ servers: url });
  try {
    return await (await jetstreamManager(nc)).consumers.info(stream, durable);
  } finally {
    await nc.close();
  }
}

/** Polls `probe` until it returns a value other than undefined, or fails with `what` after `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(50);
  }
}

/** Waits until the consumer has nothing pending and nothing unacknowledged; returns its info. */
export function drainedConsumer(url: string, ms = 20_000): Promise<ConsumerInfo> {
  return eventually('the consumer draining (num_pending = num_ack_pending = 0)', async () => {
    const info = await consumerInfo(url);
    return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
  }, ms);
}

export interface CollectedAnswer {
  readonly subject: string;
  readonly status: number;
  readonly replayed: boolean;
  readonly text: string;
  readonly body: { status: string; code?: string; requestId: string | null; [k: string]: unknown };
}

/** Subscribes to `subject` (e.g. `writ.result.acme.>`) and keeps every answer that arrives. */
export class AnswerCollector {
  readonly answers: CollectedAnswer[] = [];

  private constructor(readonly nc: NatsConnection) {}

  static async open(url: string, subject: string): Promise<AnswerCollector> {
    // Reconnects for ever, so a collector outlives a restarted nats-server.
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const c = new AnswerCollector(nc);
    nc.subscribe(subject, { callback: (_err, m) => c.add(m) });
    await nc.flush();
    return c;
  }

  private add(m: Msg): void {
    const text = m.string();
    this.answers.push({ subject: m.subject, status: Number(m.headers?.get('Writ-Status') ?? 0), replayed: m.headers?.get('Idempotent-Replayed') === 'true', text, body: JSON.parse(text) as CollectedAnswer['body'] });
  }

  /** The answers for one requestId, in arrival order. */
  for(requestId: string): CollectedAnswer[] {
    return this.answers.filter((a) => a.body.requestId === requestId);
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}
