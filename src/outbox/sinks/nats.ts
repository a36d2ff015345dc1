import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NatsSinkConfig } from '../../config/config.js';
import type { StoredOutboxRow } from '../../store/port.js';
import { redactUrl } from '../../util/redact-url.js';
import { errorText, type Attempt, type Sink } from '../sink.js';
import { eventSubject } from '../subject.js';

const SUBJECT_CACHE = 4096;

interface Link {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
}

/**
 * Publishes each event to a JetStream stream on `<prefix>.<tenant>.<scroll>.<action>` (tokens as in
 * subject.ts) with `Nats-Msg-Id` = event id, and counts it delivered only once the stream's publish
 * acknowledgement arrives (a duplicate acknowledgement too: the stream has the event already).
 * The stream is created on first connection if missing, covering `<prefix>.>`. The connection is
 * opened on first use and reconnects by itself (without limit) when the server comes back; until
 * then publishes time out and the dispatcher retries them with backoff.
 */
export class NatsSink implements Sink {
  readonly kind = 'nats';
  readonly concurrency: number;
  private link: Promise<Link> | null = null;
  private streamReady = false;
  private closed = false;
  /** Subjects by tenant, scroll and action: a few combinations recur, and escaping costs per byte. */
  private readonly subjects = new Map<string, string>();
  /** The server as errors name it (they reach status and the delivery log): without a credential. */
  private readonly where: string;

  constructor(private readonly config: NatsSinkConfig) {
    this.concurrency = config.concurrency;
    this.where = redactUrl(config.url);
  }

  private ensure(): Promise<Link> {
    this.link ??= this.open().catch((err: unknown) => {
      this.link = null;
      throw err;
    });
    return this.link;
  }

  private async open(): Promise<Link> {
    // noAsyncTraces: otherwise the client makes two Error objects (with stack traces) per publish in
    // case it fails, the largest single cost of publishing; our errors use only the message.
    const nc = await connect({ noAsyncTraces: true, servers: this.config.url, name: `writ-outbox-${this.config.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: this.config.timeoutMs });
    void nc.closed().then(() => {
      // Closed for good (not a reconnect): the next delivery opens a new connection.
      this.link = null;
      this.streamReady = false;
    });
    return { nc, js: jetstream(nc, { timeout: this.config.timeoutMs }) };
  }

  private async ensureStream(link: Link): Promise<void> {
    if (this.streamReady) return;
    const jsm = await jetstreamManager(link.nc, { timeout: this.config.timeoutMs });
    try {
      await jsm.streams.info(this.config.stream);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add({ name: this.config.stream, subjects: [`${this.config.subjectPrefix}.>`] });
    }
    this.streamReady = true;
  }

  private subject(event: StoredOutboxRow): string {
    const key = `${event.tenant}\n${event.scroll}\n${event.action}`;
    let subject = this.subjects.get(key);
    if (subject === undefined) {
      if (this.subjects.size >= SUBJECT_CACHE) this.subjects.clear();
      subject = eventSubject(this.config.subjectPrefix, event);
      this.subjects.set(key, subject);
    }
    return subject;
  }

  async deliver(event: StoredOutboxRow, json: string): Promise<Attempt> {
    if (this.closed) return { ok: false, error: 'the NATS sink is closed' };
    try {
      const link = await this.ensure();
      await this.ensureStream(link);
      await link.js.publish(this.subject(event), json, { msgID: event.id, timeout: this.config.timeoutMs });
      return { ok: true };
    } catch (err) {
      // A server that lost its store no longer has the stream: check it again on the next attempt.
      if (/no responders|stream not found|503/i.test((err as Error).message)) this.streamReady = false;
      return { ok: false, error: `NATS ${this.where} stream ${this.config.stream}: ${errorText(err)}` };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link;
    this.link = null;
    if (link) await link.then((l) => l.nc.close()).catch(() => undefined);
  }
}
