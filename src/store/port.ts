/**
 * The storage port (DESIGN §8). Adapters live in sibling folders and are the only places that import
 * a database driver. Every method is async so that a networked adapter fits the same contract.
 */

/** One version of an entity. `doc` is null when the entity is deleted (a tombstone). */
export interface EntityRow {
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly version: number;
  readonly doc: unknown;
  readonly deleted: boolean;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** The scroll and ledger index of the record that wrote this version. */
  readonly scroll: string;
  readonly index: number;
}

/** The stored outcome of an authenticated command: the idempotency record (DESIGN §3). */
export interface StoredOutcome {
  readonly tenant: string;
  readonly actor: string;
  readonly requestId: string;
  readonly commandHash: string;
  /** SHA-256 of the signature bytes that were verified, so a byte-identical retry skips verification. */
  readonly sigDigest: string | null;
  readonly httpStatus: number;
  /** The answer body as JSON text. */
  readonly response: string;
  readonly createdAt: number;
  readonly scroll: string;
  readonly index: number;
}

/** One ledger record: `leaf` holds the exact RFC 8785 bytes that are hashed into the log. */
export interface LedgerRow {
  readonly tenant: string;
  readonly scroll: string;
  readonly index: number;
  readonly leaf: Buffer;
  readonly leafHash: string;
  readonly requestId: string;
  readonly actor: string;
  readonly commandHash: string;
  readonly outcome: string;
  readonly code: string | null;
}

export interface LogHead {
  readonly tenant: string;
  readonly scroll: string;
  /** Number of records in the log. */
  readonly size: number;
  /** Leaf hash of the last record, or the zero hash for an empty log. */
  readonly lastLeafHash: string;
}

/** An outbox event written in the apply transaction (DESIGN §7). */
export interface OutboxEvent {
  readonly id: string;
  readonly tenant: string;
  readonly scroll: string;
  readonly index: number;
  readonly action: string;
  readonly target: string | null;
  readonly version: number | null;
  readonly type: string;
  readonly data: unknown;
  readonly ts: string;
}

export interface NonceRow {
  readonly commandHash: string;
  readonly expiresAt: number;
}

/** Writes inside one apply transaction. Reads see the transaction's own earlier writes. */
export interface WriteTx {
  getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null>;
  getEntity(tenant: string, type: string, id: string): Promise<EntityRow | null>;
  /** Sets the current version and appends it to the entity's history. */
  putEntity(row: EntityRow): Promise<void>;
  /** Appends a record; `envelope` is the command body kept beside the log (redactable). */
  appendLedger(row: LedgerRow, envelope: string | null): Promise<void>;
  addOutbox(event: OutboxEvent): Promise<void>;
  /** Stores an outcome unless one exists for the key already: the first outcome of a key wins. */
  putOutcome(outcome: StoredOutcome): Promise<void>;
  putNonce(tenant: string, actor: string, nonce: string, row: NonceRow): Promise<void>;
}

/** A committed transaction: its value now, and a promise that settles once it is on disk. */
export interface Committed<T> {
  readonly value: T;
  /**
   * Resolves when the commit is durable; rejects when it could not be made durable. Nothing that
   * the transaction wrote MAY be acknowledged to a client before this resolves.
   */
  readonly durable: Promise<void>;
}

export interface Store {
  readonly dialect: string;
  /** A description of the durability setting, printed by benchmarks and /healthz. */
  readonly durability: string;
  /**
   * Runs `fn` in ONE transaction and commits it. Transactions run one at a time, in call order.
   * When the promise rejects, nothing of the transaction is visible. The returned `durable`
   * promise MUST NOT resolve until the commit is durable, so that a caller may start the next
   * transaction while the previous one is being synced (group commit).
   */
  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<Committed<T>>;
  /** Resolves when everything committed so far is durable. */
  durable(): Promise<void>;
  /** Reads answer only with durable data: they wait for a pending sync when there is one. */
  getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null>;
  listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]>;
  /** Every current entity of a type in every tenant (for the key, role and flag registries). */
  allEntitiesOfType(type: string): Promise<EntityRow[]>;
  getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null>;
  findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]>;
  getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null>;
  /** Unexpired nonces (expiresAt >= now) in order of expiry, at most `limit`. */
  unexpiredNonces(now: number, limit: number): Promise<Array<NonceRow & { tenant: string; actor: string; nonce: string }>>;
  /** True when no other process writes to this store (an embedded database). */
  readonly exclusive: boolean;
  logHeads(): Promise<LogHead[]>;
  readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]>;
  readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null>;
  countOutbox(): Promise<number>;
  /** Deletes expired nonces and outcomes older than the retention; returns how many went. */
  prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }>;
  close(): Promise<void>;
}
