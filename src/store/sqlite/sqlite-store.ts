import Database from 'better-sqlite3';
import type { Committed, EntityRow, LedgerRow, LogHead, NonceRow, Store, StoredOutcome, WriteTx } from '../port.js';
import { Checkpointer } from './checkpointer.js';
import { GroupSync } from './group-sync.js';
import { SCHEMA_V1, SCHEMA_VERSION } from './schema.js';

type Db = Database.Database;
type Row = Record<string, unknown>;

export interface SqliteOptions {
  readonly path: string;
  /**
   * How commits become durable; both sync the WAL after every commit before it is acknowledged.
   * 'group' (default): writ fsyncs the WAL in the thread pool (GroupSync), so the event loop goes
   * on preparing the next batch meanwhile. 'full': SQLite's own synchronous=FULL, which blocks.
   */
  readonly fsync?: 'group' | 'full';
  /** WAL size that starts a background checkpoint in 'group' mode (default 16 MiB). */
  readonly checkpointBytes?: number;
}

/** Default WAL size at which a 'group' store starts a background checkpoint. */
export const DEFAULT_CHECKPOINT_BYTES = 16 * 1024 * 1024;
/**
 * A WAL this many times the checkpoint size gets a blocking TRUNCATE checkpoint: under sustained
 * writes the background checkpoints never see an idle moment in which the WAL can restart.
 */
export const WAL_HARD_LIMIT_FACTOR = 16;

/**
 * The embedded adapter: better-sqlite3 in WAL mode. One connection writes (transactions are
 * serialised by a promise chain), another reads; reads that could see a commit not yet durable
 * wait for its sync first.
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite';
  /** The writer connection holds the write lock for its transactions; writ assumes one process per file. */
  readonly exclusive = true;
  readonly durability: string;
  private readonly writer: Db;
  private readonly reader: Db;
  private readonly w: ReturnType<typeof writerStatements>;
  private readonly r: ReturnType<typeof readerStatements>;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly group: GroupSync | undefined;
  private readonly checkpointBytes: number;
  private checkpointQueued = false;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly blocking = { count: 0 };

  constructor(options: SqliteOptions) {
    const mode = options.fsync ?? 'group';
    this.checkpointBytes = options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES;
    this.durability = mode === 'group' ? 'sqlite wal, fsync of the WAL after every commit (group fsync)' : 'sqlite wal synchronous=FULL';
    this.writer = new Database(options.path);
    this.writer.pragma('journal_mode = WAL');
    this.writer.pragma('busy_timeout = 5000');
    this.writer.pragma('synchronous = FULL');
    tune(this.writer);
    this.migrate();
    if (mode === 'group') {
      // Recover a WAL left by a crash into the synced database file before relaxing syncs.
      this.writer.pragma('wal_checkpoint(TRUNCATE)');
      this.writer.pragma('wal_autocheckpoint = 0');
      this.writer.pragma('synchronous = OFF');
      this.group = new GroupSync(`${options.path}-wal`, () => this.maybeCheckpoint());
      this.checkpointer = new Checkpointer(options.path);
    }
    this.reader = new Database(options.path, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    tune(this.reader);
    this.w = writerStatements(this.writer);
    this.r = readerStatements(this.reader);
  }

  private migrate(): void {
    const version = this.writer.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`the database has schema version ${version}, newer than this writ (${SCHEMA_VERSION}); upgrade writ`);
    }
    if (version < SCHEMA_VERSION) {
      this.writer.transaction(() => {
        this.writer.exec(SCHEMA_V1);
        this.writer.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
  }

  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<Committed<T>> {
    const run = async (): Promise<Committed<T>> => {
      if (this.closed) throw new Error('store is closed');
      this.writer.exec('BEGIN IMMEDIATE');
      let value: T;
      try {
        value = await fn(this.tx);
        this.writer.exec('COMMIT');
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
      const durable = this.group ? this.group.commit() : Promise.resolve();
      durable.catch(() => undefined);
      return { value, durable };
    };
    return this.serial(run);
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  durable(): Promise<void> {
    return this.group ? this.group.all() : Promise.resolve();
  }

  /** Waits for a pending sync before a read answers, so no client sees data that is not durable. */
  private async settled<T>(value: T): Promise<T> {
    if (this.group && !this.group.idle) await this.group.all();
    return value;
  }

  /** Checkpoints run: in the background, and blocking ones past the hard WAL limit. */
  get checkpoints(): { background: number; blocking: number; count: number } {
    const background = this.checkpointer?.count ?? 0;
    return { background, blocking: this.blocking.count, count: background + this.blocking.count };
  }

  /**
   * Past the checkpoint size, a background checkpoint; past the hard limit, a blocking one that
   * checkpoints under synchronous=FULL (WAL synced before, database synced after) and truncates
   * the WAL, queued behind running transactions.
   */
  private maybeCheckpoint(): void {
    if (!this.group || this.checkpointQueued || this.closed) return;
    const bytes = this.group.walBytes();
    if (bytes < this.checkpointBytes) return;
    if (bytes < this.checkpointBytes * WAL_HARD_LIMIT_FACTOR) {
      this.checkpointer?.request();
      return;
    }
    this.checkpointQueued = true;
    void this.serial(async () => {
      this.checkpointQueued = false;
      if (this.closed) return;
      this.checkpoint();
    }).catch(() => undefined);
  }

  private checkpoint(): void {
    this.writer.pragma('synchronous = FULL');
    try {
      this.writer.pragma('wal_checkpoint(TRUNCATE)');
      this.blocking.count++;
    } finally {
      this.writer.pragma('synchronous = OFF');
    }
  }

  private readonly tx: WriteTx = {
    getOutcome: async (tenant, actor, requestId) => toOutcome(this.w.getOutcome.get(tenant, requestId, actor) as Row | undefined),
    getEntity: async (tenant, type, id) => toEntity(this.w.getEntity.get(tenant, type, id) as Row | undefined),
    putEntity: async (e) => {
      const doc = e.deleted ? null : JSON.stringify(e.doc);
      const args = [e.tenant, e.type, e.id, e.version, doc, e.deleted ? 1 : 0, e.updatedAt, e.updatedBy, e.scroll, e.index];
      this.w.putEntity.run(...args);
      this.w.putHistory.run(...args);
    },
    appendLedger: async (l, envelope) => {
      this.w.appendLedger.run(l.tenant, l.scroll, l.index, l.leaf, l.leafHash, l.requestId, l.actor, l.commandHash, l.outcome, l.code);
      this.w.putEnvelope.run(l.tenant, l.scroll, l.index, envelope);
    },
    addOutbox: async (e) => {
      this.w.addOutbox.run(e.id, e.tenant, e.scroll, e.index, e.action, e.target, e.version, e.type, JSON.stringify(e.data), e.ts);
    },
    putOutcome: async (o) => {
      this.w.putOutcome.run(o.tenant, o.actor, o.requestId, o.commandHash, o.sigDigest, o.httpStatus, o.response, o.createdAt, o.scroll, o.index);
    },
    putNonce: async (tenant, actor, nonce, n) => {
      this.w.putNonce.run(tenant, actor, nonce, n.commandHash, n.expiresAt);
    },
  };

  async getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null> {
    if (atIndex === undefined) return this.settled(toEntity(this.r.getEntity.get(tenant, type, id) as Row | undefined));
    return this.settled(toEntity(this.r.getEntityAt.get(tenant, type, id, atIndex) as Row | undefined));
  }

  async listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]> {
    return this.settled((this.r.listEntities.all(tenant, type, afterId ?? '', limit) as Row[]).map((row) => toEntity(row)!));
  }

  async allEntitiesOfType(type: string): Promise<EntityRow[]> {
    return this.settled((this.r.allOfType.all(type) as Row[]).map((row) => toEntity(row)!));
  }

  /**
   * The connection for a point read of committed state: the writer's, whose page cache is hot,
   * unless it is inside a transaction (its own uncommitted writes would show), then the reader's.
   */
  private committed(): { getOutcome: Database.Statement; getNonce: Database.Statement } {
    return this.writer.inTransaction ? this.r : this.w;
  }

  async getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null> {
    const found = toOutcome(this.committed().getOutcome.get(tenant, requestId, actor) as Row | undefined);
    return found ? this.settled(found) : null;
  }

  async findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]> {
    return this.settled((this.r.findOutcomes.all(tenant, requestId) as Row[]).map((row) => toOutcome(row)!));
  }

  async getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null> {
    const row = this.committed().getNonce.get(tenant, actor, nonce) as Row | undefined;
    return row ? { commandHash: row.command_hash as string, expiresAt: row.expires_at as number } : null;
  }

  async unexpiredNonces(now: number, limit: number) {
    return (this.r.unexpiredNonces.all(now, limit) as Row[]).map((row) => ({
      tenant: row.tenant as string,
      actor: row.actor as string,
      nonce: row.nonce as string,
      commandHash: row.command_hash as string,
      expiresAt: row.expires_at as number,
    }));
  }

  async logHeads(): Promise<LogHead[]> {
    return (this.r.logHeads.all() as Row[]).map((row) => ({
      tenant: row.tenant as string,
      scroll: row.scroll as string,
      size: (row.idx as number) + 1,
      lastLeafHash: row.leaf_hash as string,
    }));
  }

  async readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]> {
    return this.settled((this.r.readLedger.all(tenant, scroll, from, limit) as Row[]).map(toLedger));
  }

  async readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null> {
    const row = this.r.readEnvelope.get(tenant, scroll, index) as Row | undefined;
    return this.settled((row?.body as string | null | undefined) ?? null);
  }

  async countOutbox(): Promise<number> {
    return (this.r.countOutbox.get() as Row).n as number;
  }

  async prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }> {
    const { value, durable } = await this.transaction(async () => ({
      nonces: this.w.pruneNonces.run(nowMs).changes,
      outcomes: this.w.pruneOutcomes.run(nowMs - outcomeRetentionMs).changes,
    }));
    await durable;
    return value;
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.closed) return;
    await this.durable().catch(() => undefined);
    this.closed = true;
    await this.checkpointer?.close();
    this.reader.close();
    // Closing checkpoints the WAL into the database: do it with full syncs.
    this.writer.pragma('synchronous = FULL');
    this.writer.close();
    this.group?.close();
  }
}

/** A page cache large enough for the hot parts of the indexes, and reads through mmap. */
function tune(db: Db): void {
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  db.pragma('temp_store = MEMORY');
}

const ENTITY_COLS = 'tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx';

function writerStatements(db: Db) {
  return {
    getNonce: db.prepare('SELECT command_hash, expires_at FROM nonces WHERE tenant = ? AND actor = ? AND nonce = ?'),
    getOutcome: db.prepare('SELECT * FROM outcomes WHERE tenant = ? AND request_id = ? AND actor = ?'),
    getEntity: db.prepare(`SELECT ${ENTITY_COLS} FROM entities WHERE tenant = ? AND type = ? AND id = ?`),
    putEntity: db.prepare(`INSERT OR REPLACE INTO entities (${ENTITY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)`),
    putHistory: db.prepare(`INSERT INTO entity_history (${ENTITY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)`),
    appendLedger: db.prepare('INSERT INTO ledger (tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    putEnvelope: db.prepare('INSERT INTO envelopes (tenant, scroll, idx, body) VALUES (?,?,?,?)'),
    addOutbox: db.prepare('INSERT INTO outbox (id, tenant, scroll, idx, action, target, version, type, data, ts) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    putOutcome: db.prepare('INSERT OR IGNORE INTO outcomes (tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    putNonce: db.prepare('INSERT OR IGNORE INTO nonces (tenant, actor, nonce, command_hash, expires_at) VALUES (?,?,?,?,?)'),
    pruneNonces: db.prepare('DELETE FROM nonces WHERE expires_at < ?'),
    pruneOutcomes: db.prepare('DELETE FROM outcomes WHERE created_at < ?'),
  };
}

function readerStatements(db: Db) {
  return {
    getEntity: db.prepare(`SELECT ${ENTITY_COLS} FROM entities WHERE tenant = ? AND type = ? AND id = ?`),
    getEntityAt: db.prepare(`SELECT ${ENTITY_COLS} FROM entity_history WHERE tenant = ? AND type = ? AND id = ? AND idx <= ? ORDER BY version DESC LIMIT 1`),
    listEntities: db.prepare(`SELECT ${ENTITY_COLS} FROM entities WHERE tenant = ? AND type = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?`),
    allOfType: db.prepare(`SELECT ${ENTITY_COLS} FROM entities INDEXED BY entities_system WHERE type = ? AND type IN ('key', 'actor', 'flag')`),
    getOutcome: db.prepare('SELECT * FROM outcomes WHERE tenant = ? AND request_id = ? AND actor = ?'),
    findOutcomes: db.prepare('SELECT * FROM outcomes WHERE tenant = ? AND request_id = ? ORDER BY created_at'),
    getNonce: db.prepare('SELECT command_hash, expires_at FROM nonces WHERE tenant = ? AND actor = ? AND nonce = ?'),
    unexpiredNonces: db.prepare('SELECT tenant, actor, nonce, command_hash, expires_at FROM nonces WHERE expires_at >= ? ORDER BY expires_at LIMIT ?'),
    logHeads: db.prepare('SELECT l.tenant, l.scroll, l.idx, l.leaf_hash FROM ledger l JOIN (SELECT tenant, scroll, MAX(idx) AS m FROM ledger GROUP BY tenant, scroll) h ON l.tenant = h.tenant AND l.scroll = h.scroll AND l.idx = h.m'),
    readLedger: db.prepare('SELECT * FROM ledger WHERE tenant = ? AND scroll = ? AND idx >= ? ORDER BY idx LIMIT ?'),
    readEnvelope: db.prepare('SELECT body FROM envelopes WHERE tenant = ? AND scroll = ? AND idx = ?'),
    countOutbox: db.prepare('SELECT COUNT(*) AS n FROM outbox'),
  };
}

function toEntity(row: Row | undefined): EntityRow | null {
  if (!row) return null;
  return {
    tenant: row.tenant as string,
    type: row.type as string,
    id: row.id as string,
    version: row.version as number,
    doc: row.doc === null ? null : JSON.parse(row.doc as string),
    deleted: row.deleted === 1,
    updatedAt: row.updated_at as string,
    updatedBy: row.updated_by as string,
    scroll: row.scroll as string,
    index: row.idx as number,
  };
}

function toOutcome(row: Row | undefined): StoredOutcome | null {
  if (!row) return null;
  return {
    tenant: row.tenant as string,
    actor: row.actor as string,
    requestId: row.request_id as string,
    commandHash: row.command_hash as string,
    sigDigest: (row.sig_digest as string | null) ?? null,
    httpStatus: row.http_status as number,
    response: row.response as string,
    createdAt: row.created_at as number,
    scroll: row.scroll as string,
    index: row.idx as number,
  };
}

function toLedger(row: Row): LedgerRow {
  return {
    tenant: row.tenant as string,
    scroll: row.scroll as string,
    index: row.idx as number,
    leaf: row.leaf as Buffer,
    leafHash: row.leaf_hash as string,
    requestId: row.request_id as string,
    actor: row.actor as string,
    commandHash: row.command_hash as string,
    outcome: row.outcome as string,
    code: (row.code as string | null) ?? null,
  };
}
