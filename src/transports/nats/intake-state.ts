import type { ConsumerInfo } from '@nats-io/jetstream';

/** What /healthz shows of the NATS command intake. */
export interface NatsIntakeStatus {
  readonly url: string;
  /** connected | disconnected | reconnecting | closing | closed */
  readonly state: string;
  readonly stream: string;
  readonly consumer: string;
  /** Commands in the stream not yet delivered (from the last consumer info, refreshed every 2 s). */
  readonly pending: number | null;
  /** Commands delivered and not yet acknowledged, by any writ instance sharing the consumer. */
  readonly ackPending: number | null;
  readonly redelivered: number | null;
  /** Commands this process is applying now. */
  readonly inFlight: number;
  readonly received: number;
  readonly acked: number;
  readonly nakked: number;
  readonly replays: number;
  readonly lastError: { readonly at: string; readonly message: string } | null;
}

/** The counters and connection state the intake keeps for status(). */
export class IntakeState {
  received = 0;
  acked = 0;
  nakked = 0;
  replays = 0;
  private connection = 'connected';
  private info: ConsumerInfo | undefined;
  private last: { at: string; message: string } | null = null;

  constructor(
    private readonly url: string,
    private readonly stream: string,
    private readonly consumer: string,
  ) {}

  onConnection(type: string, error?: string): void {
    if (type === 'disconnect') this.connection = 'disconnected';
    else if (type === 'reconnecting') this.connection = 'reconnecting';
    else if (type === 'reconnect') this.connection = 'connected';
    else if (type === 'close') this.connection = 'closed';
    if (type === 'disconnect' || type === 'error') this.error(error ?? `NATS connection: ${type}`);
  }

  onInfo(info: ConsumerInfo): void {
    this.info = info;
  }

  error(message: string): void {
    this.last = { at: new Date().toISOString(), message };
  }

  snapshot(inFlight: number, closing: boolean): NatsIntakeStatus {
    return {
      url: this.url,
      state: closing && this.connection !== 'closed' ? 'closing' : this.connection,
      stream: this.stream,
      consumer: this.consumer,
      pending: this.info?.num_pending ?? null,
      ackPending: this.info?.num_ack_pending ?? null,
      redelivered: this.info?.num_redelivered ?? null,
      inFlight,
      received: this.received,
      acked: this.acked,
      nakked: this.nakked,
      replays: this.replays,
      lastError: this.last,
    };
  }
}
