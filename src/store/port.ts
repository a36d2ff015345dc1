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
}

export interface Store {
  readonly dialect: string;
  /** A description of the durability setting, printed by benchmarks and /healthz. */
  readonly durability: string;
  /**
   * Applies the batch in ONE transaction. Batches are applied in call order, so a caller may submit
   * the next batch before the previous one has settled (group commit). The promise MUST NOT resolve
   * until the batch is durable. When it rejects, nothing of the batch is visible, and every batch
   * submitted after it is rejected as well (it may build on the failed one) until `recover()`.
   */
  commit(batch: WriteBatch): Promise<void>;
  /** Accepts batches again after a failed commit. */
  recover(): Promise<void>;
  /** Why the store cannot accept writes at all (it needs a restart), or undefined when it can. */
  problem(): string | undefined;
  /** Reads see committed state, which is durable state. */
  getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null>;
  listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]>;
  /** Every current entity of a type in every tenant (for the key, role and flag registries). */
  allEntitiesOfType(type: string): Promise<EntityRow[]>;
  getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null>;
  findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]>;
  /** Calls `visit` with the key of every stored outcome; returns how many there were. */
  scanOutcomeKeys(visit: (tenant: string, actor: string, requestId: string) => void): Promise<number>;
  getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null>;
  /** Unexpired nonces (expiresAt >= now) in order of expiry, at most `limit`. */
  unexpiredNonces(now: number, limit: number): Promise<Array<NonceRow & { tenant: string; actor: string; nonce: string }>>;
  /** True when no other process writes to this store (an embedded database). */
  readonly exclusive: boolean;
  logHeads(): Promise<LogHead[]>;
  readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]>;
  readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null>;
  countOutbox(): Promise<number>;
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
  /**
   * Deletes expired nonces and outcomes older than the retention, except 202 outcomes (commands held
   * for approval, which keep their requestId until their final answer replaces the 202); returns how
   * many went.
   */
  prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }>;
  close(): Promise<void>;
}
