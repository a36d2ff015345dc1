import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { DEFAULT_COMMANDS_SUBJECT_PREFIX } from '../../config/config.js';
import { redactUrl } from '../../util/redact-url.js';
import { commandSubject, HEADERS } from './subjects.js';

/** An answer that came back over NATS (DESIGN §3 body, HTTP-equivalent status from `Writ-Status`). */
export interface NatsAnswer {
  readonly status: number;
  readonly replayed: boolean;
  /** The answer JSON text, byte for byte as writ sent it. */
  readonly text: string;
  readonly body: Record<string, unknown>;
  /** Where the command sits in the stream (its PubAck). */
  readonly seq: number;
}

export interface SubmitOptions {
  readonly bearer?: string;
  /** How long to wait for the answer after the stream stored the command (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Publishes commands to writ's NATS intake and awaits their answers (tests, `writ submit --nats`).
 * One inbox subscription serves every request; each command names its own answer subject in
 * `Writ-Reply-To`. The command is in the stream once `submit` has its PubAck; a timeout after that
 * does not mean it was lost — publish the same envelope again (it is answered as a replay) or ask
 * GET /v1/commands/{tenant}/{requestId}.
 */
export class NatsCommandClient {
  private readonly waiting = new Map<string, (m: Msg) => void>();
  private next = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly inbox: string,
    private readonly sub: Subscription,
    private readonly subjectPrefix: string,
  ) {}

  static async connect(url: string, options: { subjectPrefix?: string } = {}): Promise<NatsCommandClient> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: url.split(','), name: 'writ-client' });
    } catch (err) {
      throw new Error(`cannot reach NATS at ${redactUrl(url)} (${(err as Error).message}); check the URL and that nats-server runs`);
    }
    const inbox = createInbox();
    let client: NatsCommandClient | undefined;
    const sub = nc.subscribe(`${inbox}.*`, { callback: (_err, m) => client?.deliver(m) });
    client = new NatsCommandClient(nc, jetstream(nc), inbox, sub, options.subjectPrefix ?? DEFAULT_COMMANDS_SUBJECT_PREFIX);
    return client;
  }

  private deliver(m: Msg): void {
    const token = m.subject.slice(this.inbox.length + 1);
    const resolve = this.waiting.get(token);
    if (!resolve) return;
    this.waiting.delete(token);
    resolve(m);
  }

  /** Publishes one envelope (JSON text or bytes) on `<subjectPrefix>.<tenant>` and awaits its answer. */
  async submit(tenant: string, body: string | Uint8Array, options: SubmitOptions = {}): Promise<NatsAnswer> {
    const token = String(this.next++);
    const h = headers();
    h.set(HEADERS.replyTo, `${this.inbox}.${token}`);
    if (options.bearer) h.set(HEADERS.authorization, `Bearer ${options.bearer}`);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const answered = new Promise<Msg>((resolve) => this.waiting.set(token, resolve));
    const subject = commandSubject(this.subjectPrefix, tenant);
    let ack: PubAck;
    try {
      ack = await this.js.publish(subject, body, { headers: h });
    } catch (err) {
      this.waiting.delete(token);
      throw new Error(`no JetStream stream took the command on ${subject} (${(err as Error).message}); is \`writ serve --nats\` running against this server, with nats.subjectPrefix ${this.subjectPrefix}?`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new Error(`the command is in stream ${ack.stream} (seq ${ack.seq}) but no answer came within ${timeoutMs} ms; publish the same envelope again to get its answer, or ask GET /v1/commands/${tenant}/<requestId>`));
      }, timeoutMs);
    });
    try {
      const m = await Promise.race([answered, timedOut]);
      const text = m.string();
      return {
        status: Number(m.headers?.get(HEADERS.status) ?? 0),
        replayed: m.headers?.get(HEADERS.replayed) === 'true',
        text,
        body: JSON.parse(text) as Record<string, unknown>,
        seq: ack.seq,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.drain().catch(() => undefined);
  }
}
