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

/** Stored columns a ledger read may be narrowed by (null: any). */
export interface LedgerFilter {
  readonly actor: string | null;
  readonly outcome: string | null;
  readonly code: string | null;
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

/** An outbox event with its position: `seq` orders all events in commit order (1, 2, …). */
export interface OutboxRow extends OutboxEvent {
  readonly seq: number;
}

/**
 * An outbox row as stored, for delivery: `data` is the stored JSON text (written by JSON.stringify),
 * so the dispatcher neither parses nor re-encodes it.
 */
export interface StoredOutboxRow extends Omit<OutboxRow, 'data'> {
  readonly data: string;
}

/** The persisted delivery state of one sink. */
export interface SinkState {
  readonly sink: string;
  /** Every event with seq <= cursor is delivered, dead-lettered or filtered out for this sink. */
  readonly cursor: number;
  readonly updatedAt: string;
  /** Set when the endpoint answered 410 Gone; delivery stops until `writ outbox retry` re-enables it. */
  readonly disabledAt: string | null;
  readonly disabledReason: string | null;
}

/** An event a sink gave up on after its attempts; `redrive` marks one asked back into delivery. */
export interface DeadLetter {
  readonly sink: string;
  readonly seq: number;
  readonly eventId: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly deadAt: string;
  readonly redrive: boolean;
}

/** One attempt to deliver one event to one sink. */
export interface DeliveryRow {
  readonly sink: string;
  readonly eventId: string;
  readonly seq: number;
  readonly attempt: number;
  /** HTTP status (webhook) or null. */
  readonly status: number | null;
  /** Why the attempt failed, or null when it succeeded. */
  readonly error: string | null;
  readonly latencyMs: number;
  readonly at: string;
}

/** What the dispatcher persists in ONE transaction at each flush. */
export interface OutboxProgress {
  readonly cursors: ReadonlyArray<{ readonly sink: string; readonly cursor: number }>;
  /** New or renewed dead letters (a key that exists is replaced, its redrive mark cleared). */
  readonly dead: readonly DeadLetter[];
  /** Dead letters delivered on redrive: removed. */
  readonly resolved: ReadonlyArray<{ readonly sink: string; readonly seq: number }>;
  readonly deliveries: readonly DeliveryRow[];
  /** Sinks disabled (reason) or enabled again (null). */
  readonly disabled: ReadonlyArray<{ readonly sink: string; readonly reason: string | null }>;
  /** Delivery-log rows kept per sink touched by `deliveries`. */
  readonly keep: number;
  readonly at: string;
  /** The outbox lease's term the dispatcher was opened in (shared stores): refused in another term. */
  readonly term?: number;
}

/**
 * One Merkle tile of a log (C2SP tlog-tiles): `width` hashes of tree level 8·level, plus the nodes
 * inside the tile, in the layout of src/ledger/tile-layout.ts. A full tile has width 256 and never
 * changes; the rightmost tile of a level grows, and a row holds its latest width.
 */
export interface TileRow {
  readonly tenant: string;
  readonly scroll: string;
  readonly level: number;
  readonly n: number;
  readonly width: number;
  readonly nodes: Uint8Array;
}

/** A signed checkpoint of a log: the C2SP signed note, with any witness cosignatures appended. */
export interface CheckpointRow {
  readonly tenant: string;
  readonly scroll: string;
  readonly size: number;
  /** Root hash, lowercase hex. */
  readonly root: string;
  readonly note: string;
  readonly createdAt: string;
  /** How many witness cosignatures the note carries. */
  readonly cosignatures: number;
}

/** What one integration step of one log writes, in ONE transaction: its tiles, then its checkpoint. */
export interface IntegrationBatch {
  readonly tiles: readonly TileRow[];
  readonly checkpoint: CheckpointRow;
}

/** The erasure of one stored command body (the leaf, and so every proof, stays as it was). */
export interface Redaction {
  readonly tenant: string;
  readonly scroll: string;
  readonly index: number;
  readonly redactedAt: string;
  readonly redactedBy: string;
  readonly reason: string | null;
  /**
   * What stays in place of the body: the redacted body (src/ledger/redaction/erase.ts) that the
   * ledger replay runs, or null (nothing: a body that cannot be replayed redacted).
   */
  readonly body?: string | null;
}


export interface NonceRow {
  readonly commandHash: string;
  readonly expiresAt: number;
}

/** A nonce to persist with the outcome of the command that used it. */
export interface NonceWrite extends NonceRow {
  readonly tenant: string;
  readonly actor: string;
  readonly nonce: string;
}

/** Everything one group of commands writes; applied as ONE transaction. */
export interface WriteBatch {
  /** Entity versions: each becomes the current version and joins the entity's history. */
  readonly entities: readonly EntityRow[];
  /** Ledger records, each with the command body kept beside the log (redactable). */
  readonly records: ReadonlyArray<{ readonly row: LedgerRow; readonly envelope: string | null }>;
  readonly outbox: readonly OutboxEvent[];
  /** Stored outcomes; an outcome for a key that has one already is ignored (the first one wins). */
  readonly outcomes: readonly StoredOutcome[];
  /**
   * Stored outcomes that replace the one of their key (written after `outcomes`): the final answer
   * of a command held for approval takes the place of its 202 PENDING_APPROVAL answer.
   */
  readonly outcomeUpdates?: readonly StoredOutcome[];
  readonly nonces: readonly NonceWrite[];
  /** Stored command bodies to erase. */
  readonly redactions?: readonly Redaction[];
  /** Stored entity versions (the whole row given, `doc` erased) whose document a redaction replaces. */
  readonly erasedVersions?: readonly EntityRow[];
}

/*
 * The port is split into ROLES, so that each consumer names the part of the store it uses (its type
 * says what it may touch) and a backend's adapter is checked role by role. One adapter class per
 * backend implements them all: `Store`.
 */

/** The store as a whole: its transactions, its settings, and its life. */
export interface StoreLifecycle {
  readonly dialect: string;
  /** A description of the durability setting, printed by benchmarks and /healthz. */
  readonly durability: string;
  /** True when no other process writes to this store (an embedded database). */
  readonly exclusive: boolean;
  /**
   * Applies the batch in ONE transaction. Batches are applied in call order, so a caller may submit
   * the next batch before the previous one has settled (group commit). The promise MUST NOT resolve
   * until the batch is durable. When it rejects, nothing of the batch is visible, and every batch
   * submitted after it is rejected as well (it may build on the failed one) until `recover()`.
   */
  commit(batch: WriteBatch): Promise<void>;
  /** Accepts batches again after a failed commit. */
  recover(): Promise<void>;
  /**
   * Why the store cannot accept writes at all, or undefined when it can: SQLite's writer died (it
   * needs a restart), or a networked database does not answer now (it recovers by itself).
   */
  problem(): string | undefined;
  close(): Promise<void>;
}

/** Stored outcomes (the idempotency records) and nonces of authenticated commands. */
export interface CommandStore {
  getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null>;
  findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]>;
  /** Calls `visit` with every stored outcome, in no particular order; returns how many there were. */
  scanOutcomes(visit: (outcome: StoredOutcome) => void): Promise<number>;
  /** Calls `visit` with the key of every stored outcome; returns how many there were. */
  scanOutcomeKeys(visit: (tenant: string, actor: string, requestId: string) => void): Promise<number>;
  getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null>;
  /** Unexpired nonces (expiresAt >= now) in order of expiry, at most `limit`. */
  unexpiredNonces(now: number, limit: number): Promise<Array<NonceRow & { tenant: string; actor: string; nonce: string }>>;
  /**
   * Deletes expired nonces and outcomes older than the retention, except 202 outcomes (commands held
   * for approval, which keep their requestId until their final answer replaces the 202); returns how
   * many went.
   */
  prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }>;
}

/** Entity state: current versions and their history. Reads see committed state, which is durable state. */
export interface EntityStore {
  getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null>;
  listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]>;
  /** Versions of one entity above `afterVersion` (0: from the first), oldest first, at most `limit`. */
  entityVersions(tenant: string, type: string, id: string, afterVersion: number, limit: number): Promise<EntityRow[]>;
  /** Every current entity of a type in every tenant (for the key, role and flag registries). */
  allEntitiesOfType(type: string): Promise<EntityRow[]>;
  /** Calls `visit` with every stored entity version of every tenant, in no particular order; returns how many. */
  scanEntityHistory(visit: (row: EntityRow) => void): Promise<number>;
  /** The entity versions of the tenant that the record (tenant, scroll, index) wrote: for a redaction. */
  entityVersionsOfRecord(tenant: string, scroll: string, index: number): Promise<EntityRow[]>;
}

/** The logs: records and their bodies, leaf hashes, tiles, checkpoints and cosignatures, redactions. */
export interface LogStore {
  logHeads(): Promise<LogHead[]>;
  readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]>;
  /** Records with from <= index < to that match `filter`, in index order, at most `limit`. */
  readLedgerWhere(tenant: string, scroll: string, from: number, to: number, filter: LedgerFilter, limit: number): Promise<LedgerRow[]>;
  readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null>;
  /** The records of one command (actor, requestId) in one log, in order: a held command's PENDING record and its end. */
  recordsOfCommand(tenant: string, scroll: string, actor: string, requestId: string): Promise<LedgerRow[]>;
  /** Leaf hashes (lowercase hex) of records [from, to) of a log, in order. */
  readLeafHashes(tenant: string, scroll: string, from: number, to: number): Promise<string[]>;
  /**
   * Writes one integration step in ONE transaction, in order with commits. The promise MUST NOT
   * resolve until it is durable. It rejects when a checkpoint of that size exists already.
   */
  integrate(batch: IntegrationBatch): Promise<void>;
  /** Replaces the note of a stored checkpoint by the same note with more (cosignature) lines. */
  addCosignatures(tenant: string, scroll: string, size: number, note: string, cosignatures: number): Promise<void>;
  getTile(tenant: string, scroll: string, level: number, n: number): Promise<TileRow | null>;
  latestCheckpoint(tenant: string, scroll: string): Promise<CheckpointRow | null>;
  /** The latest checkpoint of every log that has one. */
  latestCheckpoints(): Promise<CheckpointRow[]>;
  /** Checkpoints of a log with size >= fromSize, oldest first, at most `limit`. */
  checkpoints(tenant: string, scroll: string, fromSize: number, limit: number): Promise<CheckpointRow[]>;
  getRedaction(tenant: string, scroll: string, index: number): Promise<Redaction | null>;
}

/** The outbox: events, per-sink delivery state, dead letters and the delivery log. */
export interface OutboxStore {
  countOutbox(): Promise<number>;
  /** Outbox events with seq > afterSeq in seq (commit) order, at most `limit`. */
  readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]>;
  outboxEventById(id: string): Promise<OutboxRow | null>;
  /** readOutbox with `data` left as its stored JSON text (what the dispatcher sends). */
  readStoredOutbox(afterSeq: number, limit: number): Promise<StoredOutboxRow[]>;
  storedOutboxEventById(id: string): Promise<StoredOutboxRow | null>;
  /** The highest seq written (0 when the outbox is empty). */
  outboxHead(): Promise<number>;
  sinkStates(): Promise<SinkState[]>;
  /** Dead letters of one sink (or all), by sink then seq, at most `limit`; only those marked for redrive if asked. */
  deadLetters(sink: string | null, limit: number, onlyRedrive?: boolean): Promise<DeadLetter[]>;
  countDeadLetters(): Promise<Array<{ sink: string; n: number }>>;
  /** The newest delivery-log rows of a sink, newest first. */
  deliveryLog(sink: string, limit: number): Promise<DeliveryRow[]>;
  /** Persists dispatcher progress in ONE transaction, in order with commits; durable on resolve. */
  saveOutboxProgress(progress: OutboxProgress): Promise<void>;
  /** Marks dead letters (of one sink or all, one event or all) for redrive; returns how many. */
  requestRedrive(sink: string | null, eventId: string | null): Promise<number>;
}

/** Every role: what a backend's adapter implements, and what only the composition root and offline tools hold. */
export type Store = StoreLifecycle & CommandStore & EntityStore & LogStore & OutboxStore;
