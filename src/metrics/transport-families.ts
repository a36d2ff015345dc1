import type { NatsIntakeStatus } from '../transports/nats/intake-state.js';
import type { WritMetrics } from './metrics.js';
import { one } from './scraped.js';

/** Commands a transport has in flight, and its bound. */
export interface InFlight {
  readonly inFlight: number;
  readonly limit: number;
}

/** The HTTP command intake's queue: commands received and not yet answered, against server.maxInFlight. */
export function registerHttpFamilies(m: WritMetrics, gate: () => InFlight): void {
  m.family({ name: 'writ_http_commands_in_flight', help: 'Commands received over HTTP and not yet answered.', type: 'gauge', read: () => one(gate().inFlight) });
  m.family({ name: 'writ_http_commands_in_flight_limit', help: 'server.maxInFlight: past it, commands are answered 503 UNAVAILABLE with Retry-After and not recorded.', type: 'gauge', read: () => one(gate().limit) });
}

const NATS_STATES = ['connected', 'disconnected', 'reconnecting', 'closing', 'closed'] as const;

/** The NATS command intake (`writ serve --nats`): present only where it runs. */
export function registerNatsFamilies(m: WritMetrics, status: () => { status(): NatsIntakeStatus }): void {
  const s = () => status().status();
  m.family({ name: 'writ_nats_intake_state', help: 'The NATS connection state of the command intake: 1 for the current state.', type: 'gauge', labels: ['state'], read: () => NATS_STATES.map((state) => [{ state }, s().state === state ? 1 : 0] as const) });
  m.family({ name: 'writ_nats_intake_in_flight', help: 'Commands from NATS this process is applying now (bounded by nats.maxInFlight).', type: 'gauge', read: () => one(s().inFlight) });
  const known = (v: number | null) => (v === null ? [] : one(v));
  m.family({ name: 'writ_nats_intake_pending', help: 'Commands in the stream not yet delivered (consumer info, refreshed every 2 s).', type: 'gauge', read: () => known(s().pending) });
  m.family({ name: 'writ_nats_intake_ack_pending', help: 'Commands delivered and not yet acknowledged, by any writ sharing the consumer.', type: 'gauge', read: () => known(s().ackPending) });
  m.family({ name: 'writ_nats_intake_received_total', help: 'Messages this process received from the command stream.', type: 'counter', read: () => one(s().received) });
  m.family({ name: 'writ_nats_intake_acked_total', help: 'Messages answered and acknowledged.', type: 'counter', read: () => one(s().acked) });
  m.family({ name: 'writ_nats_intake_nakked_total', help: 'Messages handed back for redelivery (writ busy: maxInFlight, UNAVAILABLE, a key in flight).', type: 'counter', read: () => one(s().nakked) });
}
