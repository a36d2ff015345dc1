import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointRow, DeadLetter, DeliveryRow, EntityRow, IntegrationBatch, LedgerFilter, LedgerRow, LogHead, NonceRow, OutboxProgress, OutboxRow, Redaction, SinkState, Store, StoredOutboxRow, StoredOutcome, TileRow, WriteBatch } from '../port.js';
import { toRows } from './batch-rows.js';
import { OutboxReads, parsedEvent } from './outbox-sql.js';
import { readerStatements, toCheckpoint, toEntity, toLedger, toOutcome } from './reader-sql.js';
import { tune } from './pragmas.js';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_VERSION } from './schema.js';
import type { WriterReply, WriterRequest } from './writer-worker.js';
import { createPrivateFile, WriterLock } from './writer-lock.js';

type Db = Database.Database;
type Row = Record<string, unknown>;
type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface SqliteOptions {
  readonly path: string;
  /** What this process is (e.g. `writ serve`): a second writer is told who holds the store. */
  readonly command?: string;
  /**
   * Opens beside a running writer without its lock, for a process that only reads (`writ verify`).
   * Such a store must never be committed to.
   */
  readonly readOnly?: boolean;
}

/**
 * The embedded adapter: better-sqlite3 in WAL mode with synchronous=FULL. Writes run in a writer
 * thread with a connection of its own (writer.ts), so the event loop goes on preparing the next batch
 * while one is being committed and synced; reads use a connection on the calling thread and see
 * committed state only. writ assumes it is the only process writing the file.
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite';
  readonly durability = 'sqlite wal synchronous=FULL (writer thread, group commit)';
  readonly exclusive = true;
  private readonly reader: Db;
  private readonly r: ReturnType<typeof readerStatements>;
  private readonly o: OutboxReads;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** Why the writer thread is gone, if it ended without being closed. */
  private dead: Error | undefined;
  private readonly lock: WriterLock | null;

  constructor(options: SqliteOptions) {
    // The lock first: even creating the schema is a write.
    this.lock = options.readOnly ? null : WriterLock.take(options.path, options.command ?? `node ${basename(process.argv[1] ?? '')}`.trim());
    try {
      // Created 0600 when new: SQLite gives its -wal and -shm files the database file's mode.
      createPrivateFile(options.path);
      // A read-write connection used only for reads: it creates the schema, and keeps the
      // WAL's shared memory alive for the writer thread.
      this.reader = new Database(options.path);
    } catch (err) {
      this.lock?.release();
      throw err;
    }
    try {
      this.reader.pragma('journal_mode = WAL');
      this.reader.pragma('synchronous = FULL');
      tune(this.reader);
      migrate(this.reader);
    } catch (err) {
      this.reader.close();
      this.lock?.release();
      throw err;
    }
    this.r = readerStatements(this.reader);
    this.o = new OutboxReads(this.reader);
    this.worker = new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: { path: options.path }, execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (!p) return;
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new Error(`SQLite writer: ${reply.error}`));
    });
    const failAll = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => {
      this.dead = new Error(`the SQLite writer thread failed: ${err.message}`, { cause: err });
      failAll(this.dead);
    });
    this.worker.on('exit', (code) => {
      if (!this.closed) this.dead ??= new Error(`the SQLite writer thread exited (${code}); restart writ`);
      failAll(this.dead ?? new Error('store is closed'));
    });
  }

  private call(req: Request): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, id });
    });
  }

  async commit(batch: WriteBatch): Promise<void> {
    await this.call({ op: 'commit', rows: toRows(batch) });
  }

  problem(): string | undefined {
    return this.dead?.message;
  }

  async recover(): Promise<void> {
    await this.call({ op: 'recover' });
  }

  async getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null> {
    if (atIndex === undefined) return (toEntity(this.r.getEntity.get(tenant, type, id) as Row | undefined));
    return (toEntity(this.r.getEntityAt.get(tenant, type, id, atIndex) as Row | undefined));
  }

  async listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]> {
    return ((this.r.listEntities.all(tenant, type, afterId ?? '', limit) as Row[]).map((row) => toEntity(row)!));
  }

  async entityVersions(tenant: string, type: string, id: string, afterVersion: number, limit: number): Promise<EntityRow[]> {
    return (this.r.entityVersions.all(tenant, type, id, afterVersion, limit) as Row[]).map((row) => toEntity(row)!);
  }

  async allEntitiesOfType(type: string): Promise<EntityRow[]> {
    return ((this.r.allOfType.all(type) as Row[]).map((row) => toEntity(row)!));
  }

  async getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null> {
    const found = toOutcome(this.r.getOutcome.get(tenant, requestId, actor) as Row | undefined);
    return found;
  }

  async findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]> {
    return ((this.r.findOutcomes.all(tenant, requestId) as Row[]).map((row) => toOutcome(row)!));
  }

  async scanEntityHistory(visit: (row: EntityRow) => void): Promise<number> {
    let n = 0;
    for (const row of this.r.entityHistory.iterate() as IterableIterator<Row>) {
      visit(toEntity(row)!);
      n++;
    }
    return n;
  }

  async scanOutcomes(visit: (outcome: StoredOutcome) => void): Promise<number> {
    let n = 0;
    for (const row of this.r.allOutcomes.iterate() as IterableIterator<Row>) {
      visit(toOutcome(row)!);
      n++;
    }
    return n;
  }

  async scanOutcomeKeys(visit: (tenant: string, actor: string, requestId: string) => void): Promise<number> {
    let n = 0;
    for (const row of this.r.outcomeKeys.iterate() as IterableIterator<Row>) {
      visit(row.tenant as string, row.actor as string, row.request_id as string);
      n++;
    }
    return n;
  }

  async getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null> {
    const row = this.r.getNonce.get(tenant, actor, nonce) as Row | undefined;
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
    return ((this.r.readLedger.all(tenant, scroll, from, limit) as Row[]).map(toLedger));
  }

  async readLedgerWhere(tenant: string, scroll: string, from: number, to: number, filter: LedgerFilter, limit: number): Promise<LedgerRow[]> {
    return (this.r.readLedgerWhere.all({ tenant, scroll, from, to, limit, ...filter }) as Row[]).map(toLedger);
  }

  async readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null> {
    const row = this.r.readEnvelope.get(tenant, scroll, index) as Row | undefined;
    return ((row?.body as string | null | undefined) ?? null);
  }

  async countOutbox(): Promise<number> {
    return (this.r.countOutbox.get() as Row).n as number;
  }

  async readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return this.o.readStored(afterSeq, limit).map(parsedEvent);
  }

  async outboxEventById(id: string): Promise<OutboxRow | null> {
    const row = this.o.storedById(id);
    return row ? parsedEvent(row) : null;
  }

  async readStoredOutbox(afterSeq: number, limit: number): Promise<StoredOutboxRow[]> {
    return this.o.readStored(afterSeq, limit);
  }

  async storedOutboxEventById(id: string): Promise<StoredOutboxRow | null> {
    return this.o.storedById(id);
  }

  async outboxHead(): Promise<number> {
    return this.o.head();
  }

  async sinkStates(): Promise<SinkState[]> {
    return this.o.sinks();
  }

  async deadLetters(sink: string | null, limit: number, onlyRedrive = false): Promise<DeadLetter[]> {
    return this.o.dead(sink, limit, onlyRedrive);
  }

  async countDeadLetters(): Promise<Array<{ sink: string; n: number }>> {
    return this.o.countDead();
  }

  async deliveryLog(sink: string, limit: number): Promise<DeliveryRow[]> {
    return this.o.log(sink, limit);
  }

  async saveOutboxProgress(progress: OutboxProgress): Promise<void> {
    await this.call({ op: 'outbox', progress });
  }

  async requestRedrive(sink: string | null, eventId: string | null): Promise<number> {
    return (await this.call({ op: 'redrive', sink, eventId })) as number;
  }

  async readLeafHashes(tenant: string, scroll: string, from: number, to: number): Promise<string[]> {
    return (this.r.leafHashes.all(tenant, scroll, from, to) as Row[]).map((row) => row.leaf_hash as string);
  }

  async integrate(batch: IntegrationBatch): Promise<void> {
    await this.call({ op: 'integrate', batch });
  }

  async addCosignatures(tenant: string, scroll: string, size: number, note: string, cosignatures: number): Promise<void> {
    await this.call({ op: 'cosign', tenant, scroll, size, note, cosignatures });
  }

  async getTile(tenant: string, scroll: string, level: number, n: number): Promise<TileRow | null> {
    const row = this.r.getTile.get(tenant, scroll, level, n) as Row | undefined;
    return row ? { tenant, scroll, level, n, width: row.width as number, nodes: row.nodes as Buffer } : null;
  }

  async latestCheckpoint(tenant: string, scroll: string): Promise<CheckpointRow | null> {
    const row = this.r.latestCheckpoint.get(tenant, scroll) as Row | undefined;
    return row ? toCheckpoint(row) : null;
  }

  async latestCheckpoints(): Promise<CheckpointRow[]> {
    return (this.r.latestCheckpoints.all() as Row[]).map(toCheckpoint);
  }

  async checkpoints(tenant: string, scroll: string, fromSize: number, limit: number): Promise<CheckpointRow[]> {
    return (this.r.checkpoints.all(tenant, scroll, fromSize, limit) as Row[]).map(toCheckpoint);
  }

  async entityVersionsOfRecord(tenant: string, scroll: string, index: number): Promise<EntityRow[]> {
    return (this.r.versionsOfRecord.all(tenant, scroll, index) as Row[]).map((row) => toEntity(row)!);
  }

  async recordsOfCommand(tenant: string, scroll: string, actor: string, requestId: string): Promise<LedgerRow[]> {
    return (this.r.recordsOfCommand.all(tenant, scroll, actor, requestId) as Row[]).map(toLedger);
  }

  async getRedaction(tenant: string, scroll: string, index: number): Promise<Redaction | null> {
    const row = this.r.getRedaction.get(tenant, scroll, index) as Row | undefined;
    return row
      ? { tenant, scroll, index, redactedAt: row.redacted_at as string, redactedBy: row.redacted_by as string, reason: (row.reason as string | null) ?? null }
      : null;
  }

  async prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }> {
    return (await this.call({ op: 'prune', now: nowMs, retentionMs: outcomeRetentionMs })) as { nonces: number; outcomes: number };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.worker.terminate();
    this.reader.close();
    this.lock?.release();
  }
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${version}, newer than this writ (${SCHEMA_VERSION}); upgrade writ`);
  }
  if (version < SCHEMA_VERSION) {
    db.transaction(() => {
      if (version < 1) db.exec(SCHEMA_V1);
      if (version < 2) db.exec(SCHEMA_V2);
      if (version < 3) db.exec(SCHEMA_V3);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
}
