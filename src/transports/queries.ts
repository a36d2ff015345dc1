import type { ApprovalQueries } from '../approvals/queries.js';
import type { OutboxStatus } from '../outbox/status.js';
import type { CommandStore, EntityStore, LogStore, OutboxStore, StoreLifecycle } from '../store/port.js';

/*
 * What the transports may read (DESIGN §7): small, read-only views that `Writ` exposes as
 * `writ.queries`, so that no route or tool holds the store. Each is typed on the store role it
 * reads; none can commit, prune or write dispatcher progress.
 */

/** Current entities and their versions: GET /v1/entities/…, the tenant list, the knowledge reads. */
export type EntityQueries = Pick<EntityStore, 'getEntity' | 'listEntities' | 'entityVersions'>;

/** The logs: records, stored bodies and their redactions, tiles and checkpoints (GET /v1/ledger/…, /log/…, receipts). */
export type LedgerQueries = Pick<LogStore, 'readLedger' | 'readLedgerWhere' | 'readEnvelope' | 'getRedaction' | 'getTile' | 'latestCheckpoint'>;

/** Stored answers of commands: GET /v1/commands/{requestId}, receipts by requestId. */
export type OutcomeQueries = Pick<CommandStore, 'getOutcome' | 'findOutcomes'>;

/** The outbox as operators read it: events, dead letters and the delivery log. */
export type OutboxQueries = Pick<OutboxStore, 'outboxHead' | 'readOutbox' | 'outboxEventById' | 'deadLetters' | 'deliveryLog'>;

/** The store's health as /healthz shows it. */
export type StoreHealth = Pick<StoreLifecycle, 'durability' | 'problem'>;

export interface Queries {
  readonly entities: EntityQueries;
  readonly ledger: LedgerQueries;
  readonly outcomes: OutcomeQueries;
  readonly outbox: OutboxQueries;
  /** Each sink's delivery status (src/outbox/status.ts). */
  outboxStatus(): Promise<OutboxStatus>;
  readonly approvals: ApprovalQueries;
  readonly health: StoreHealth;
}
