import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, Match, type NatsConnection } from '@nats-io/transport-node';
import type { NatsIntakeConfig } from '../../config/config.js';
import { WritError } from '../../core/errors.js';
import type { Reply, Submission } from '../../pipeline/context.js';
import { requestIdHint } from '../../pipeline/intake/identity-hint.js';
import { errorAnswer, toReply } from '../../pipeline/reply.js';
import { logError, logInfo } from '../../util/log.js';
import { parseBearer } from '../bearer.js';
import { answerHeaders, disposition } from './disposition.js';
import { redactUrl } from '../../util/redact-url.js';
import { IntakeState, type NatsIntakeStatus } from './intake-state.js';
import { ensureConsumer, ensureStream } from './stream.js';
import { HEADERS, isSubject, resultSubject, tenantOfSubject } from './subjects.js';

/** How long no delivery must arrive before a closing intake unsubscribes. */
const QUIET_MS = 50;

/** What the intake hands commands to: the pipeline (Pipeline.submit). */
export interface CommandSink {
  submit(submission: Submission): Promise<Reply>;
}

export interface NatsIntakeOptions extends NatsIntakeConfig {
  readonly url: string;
  /** One JSON line per message on stdout (subject, requestId, code; never the body or token). */
  readonly log?: boolean;
}

/**
 * Command intake over a NATS JetStream work queue (DESIGN §7, docs/nats-intake.md). Each message
 * is an envelope as POST /v1/commands takes it; it runs through the same pipeline, and is
 * acknowledged only after the pipeline answered, which it does only after the durable commit.
 * Redeliveries are answered from the stored outcome (idempotent replay), final errors are answered
 * and acknowledged, and UNAVAILABLE / IDEMPOTENCY_IN_PROGRESS are NAKed with a delay.
 */
export class NatsIntake {
  private readonly inFlight = new Map<JsMsg, number>();
  private readonly state: IntakeState;
  private messages: ConsumerMessages | undefined;
  private closing = false;
  private drained: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private repairing: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly options: NatsIntakeOptions,
    private readonly sink: CommandSink,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {
    this.state = new IntakeState(redactUrl(options.url), options.stream, options.durable);
  }

  /**
   * Connects, makes sure the stream and the durable consumer exist, and starts consuming. Rejects
   * with a message that says what to do when NATS cannot be reached or the stream is unusable;
   * after that, a lost connection is retried for ever (reported in status()).
   */
  static async start(options: NatsIntakeOptions, sink: CommandSink): Promise<NatsIntake> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.url.split(','), name: 'writ-intake', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    } catch (err) {
      throw new Error(`cannot reach NATS at ${redactUrl(options.url)} (${(err as Error).message}); start nats-server with JetStream (nats-server -js) there, or fix nats.url / --nats`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, options);
      await ensureConsumer(jsm, options);
      const intake = new NatsIntake(options, sink, nc, jsm);
      await intake.run();
      return intake;
    } catch (err) {
      await nc.close();
      if ((err as Error).name === 'NatsSetupError') throw err;
      throw new Error(`cannot set up the NATS command intake at ${redactUrl(options.url)}: ${(err as Error).message}; check that nats-server runs with JetStream (-js)`);
    }
  }

  private async run(): Promise<void> {
    const o = this.options;
    const consumer = await jetstream(this.nc).consumers.get(o.stream, o.durable);
    this.messages = await consumer.consume({ max_messages: o.maxInFlight });
    void (async () => {
      for await (const s of this.nc.status()) this.state.onConnection(s.type, 'error' in s ? String(s.error) : undefined);
    })();
    void (async () => {
      for await (const n of this.messages!.status()) {
        if (n.type === 'heartbeats_missed') this.state.error(`missed ${n.count} heartbeats from the consumer`);
        // A server restarted without its store lost the stream: make it again, the consumer then resumes.
        if (n.type === 'stream_not_found' || n.type === 'consumer_not_found') this.repair(n.type);
      }
    })();
    this.loop = (async () => {
      for await (const m of this.messages!) this.take(m);
    })().catch((err) => {
      if (!this.closing) this.state.error(`consuming stopped: ${(err as Error).message}`);
    });
    const refresh = setInterval(() => void consumer.info().then((i) => this.state.onInfo(i), (err: Error) => this.state.error(`consumer info: ${err.message}`)), 2000);
    // A command still being applied after a third of ack_wait asks the server for more time, so it is not delivered twice meanwhile.
    const third = Math.max(100, Math.floor(o.ackWaitMs / 3));
    const working = setInterval(() => {
      const now = Date.now();
      for (const [m, since] of this.inFlight) {
        if (now - since < third) continue;
        m.working();
        this.inFlight.set(m, now);
      }
    }, third);
    for (const t of [refresh, working]) {
      t.unref();
      this.timers.push(t);
    }
    void consumer.info().then((i) => this.state.onInfo(i), () => undefined);
  }

  private repair(why: string): void {
    this.state.error(`${why}; re-creating the stream and consumer`);
    this.repairing ??= (async () => {
      try {
        await ensureStream(this.jsm, this.options);
        await ensureConsumer(this.jsm, this.options);
      } catch (err) {
        this.state.error(`cannot re-create the stream or consumer: ${(err as Error).message}`);
      } finally {
        this.repairing = undefined;
      }
    })();
  }

  private take(m: JsMsg): void {
    this.state.received++;
    if (this.closing) {
      // Shutting down: hand it back, for another instance or the next start (after a delay, or
      // the server would deliver it straight back to this process while it still listens).
      m.nak(this.options.nakDelayMs);
      this.state.nakked++;
      return;
    }
    if (this.inFlight.size >= this.options.maxInFlight) {
      m.nak(this.options.nakDelayMs);
      this.state.nakked++;
      this.log(m, { disposition: 'nak', code: 'UNAVAILABLE', reason: 'maxInFlight' }, Date.now());
      return;
    }
    this.inFlight.set(m, Date.now());
    void this.handle(m).finally(() => {
      this.inFlight.delete(m);
      if (this.inFlight.size === 0) this.drained?.();
    });
  }

  private async handle(m: JsMsg): Promise<void> {
    const started = Date.now();
    const o = this.options;
    const tenant = tenantOfSubject(o.subjectPrefix, m.subject);
    let reply: Reply;
    try {
      reply = await this.answer(m, tenant, started);
    } catch (err) {
      // The pipeline answers every command; a throw means writ itself is failing: deliver it again later.
      logError('the NATS intake could not run a command; it will be delivered again', err, { subject: m.subject });
      this.state.error(`pipeline: ${(err as Error).message}`);
      m.nak(o.nakDelayMs);
      this.state.nakked++;
      return;
    }
    const d = disposition(reply, o.nakDelayMs);
    if (d.kind === 'nak') {
      m.nak(d.delayMs);
      this.state.nakked++;
      this.log(m, { disposition: 'nak', code: d.code, requestId: d.requestId, status: reply.httpStatus }, started);
      return;
    }
    const replyTo = m.headers?.get(HEADERS.replyTo, Match.IgnoreCase) ?? '';
    const to = replyTo && isSubject(replyTo) && !replyTo.startsWith(`${o.subjectPrefix}.`) ? replyTo : resultSubject(o.resultPrefix, tenant, d.requestId);
    try {
      // Core NATS: at most once. A lost answer is recovered by publishing the same envelope again (a replay).
      if (to) this.nc.publish(to, reply.body, { headers: answerHeaders(reply) });
      m.ack();
      this.state.acked++;
      if (reply.replayed) this.state.replays++;
    } catch (err) {
      this.state.error(`answering or acknowledging: ${(err as Error).message}`);
    }
    this.log(m, { disposition: 'ack', code: d.code, requestId: d.requestId, status: reply.httpStatus, replayed: reply.replayed, to }, started);
  }

  private async answer(m: JsMsg, tenant: string | null, receivedAt: number): Promise<Reply> {
    const refuse = (err: WritError) => toReply(errorAnswer(err, requestIdHint(m.data), null));
    if (tenant === null) {
      return refuse(new WritError('TENANT_MISMATCH', `the subject ${m.subject} names no valid tenant; publish on ${this.options.subjectPrefix}.<tenant>`));
    }
    const bearer = parseBearer(m.headers?.get(HEADERS.authorization, Match.IgnoreCase) || undefined);
    if (bearer === '') return refuse(new WritError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"'));
    return this.sink.submit({ body: m.data, ...(bearer ? { bearer } : {}), receivedAt, tenant });
  }

  private log(m: JsMsg, fields: Record<string, unknown>, started: number): void {
    if (!this.options.log) return;
    logInfo('nats command', { subject: m.subject, deliveries: m.info.deliveryCount, ...fields, ms: Date.now() - started });
  }

  /** The intake's state for /healthz. */
  status(): NatsIntakeStatus {
    return this.state.snapshot(this.inFlight.size, this.closing);
  }

  /**
   * Clean shutdown: stops taking commands (what still arrives is NAKed back to the queue), lets the
   * commands in flight finish (each answered and acknowledged), waits until no more deliveries
   * arrive, stops the consumer, and drains the connection (flushing acks, NAKs and answers).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.repairing;
    // The last acks free server-side slots (max_ack_pending), into which the server's consumer sends
    // more commands a moment later: wait until deliveries stop (bounded), NAKing each, so that the
    // server's slots are held by handed-back commands and nothing is left on the wire at the close.
    for (let waited = 0; waited < 2000; waited += QUIET_MS) {
      const seen = this.state.received;
      await this.nc.flush().catch(() => undefined);
      await new Promise((r) => setTimeout(r, QUIET_MS));
      if (this.state.received === seen) break;
    }
    // Stopping the consumer first lets what it buffered reach take() (NAKed); a connection drain
    // would end its iterator with an error and drop those, to come back only after ack_wait.
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // drain() flushes the acks, NAKs and answers; a connection that is down cannot, so it is bounded.
    const drained = this.nc.drain().catch(() => undefined);
    const limit = new Promise((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([drained, limit]);
    if (!this.nc.isClosed()) await this.nc.close();
  }
}
