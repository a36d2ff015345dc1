import type pg from 'pg';
import type { CheckpointRow, DeadLetter, DeliveryRow, EntityRow, IntegrationBatch, LedgerFilter, LedgerRow, LogHead, NonceRow, OutboxProgress, OutboxRow, Redaction, SinkState, Store, StoredOutboxRow, StoredOutcome, TileRow, WriteBatch } from '../port.js';
import { checkUrl, explainConnectError, openPool, preflight, READ_POOL_SIZE } from './connect.js';
import { migrate, type MigrationResult } from './migrate.js';
import { markRedrive, PostgresOutboxReads, writeOutboxProgress } from './postgres-outbox.js';
import { PostgresReads } from './postgres-read.js';
import { writeIntegration, type Epoch } from './postgres-write.js';
import type { Lease, SharedStore, WriteTurn } from '../shared.js';
import { PgLease } from './lease.js';
import { DatabaseProbe } from './health.js';
import { redactUrl } from '../../util/redact-url.js';
import { FENCES, HOLDS_LOCK, LOCKS } from './locks.js';
import { PgWriter } from './pg-writer.js';

/** The event with its stored `data` parsed; the spread keeps the keys in their order. */
function parsedEvent(row: StoredOutboxRow): OutboxRow {
  return { ...row, data: JSON.parse(row.data) as unknown };
}

export interface PostgresOptions {
  /** postgres://user@host:port/database (the password through PGPASSWORD or ~/.pgpass, preferably). */
  readonly url: string;
  /** What this process is (e.g. `writ serve`), shown in pg_stat_activity as its application_name. */
  readonly command?: string;
  /** Only reads (`writ verify`): no migration, no write; a standby will do. */
  readonly readOnly?: boolean;
}

/**
 * The networked adapter: PostgreSQL through node-pg. Reads use a pool and see committed state;
 * writes (batches, integration steps, outbox progress, pruning) go one at a time, in call order, over
 * a connection of their own, each in ONE transaction that COMMITs with synchronous_commit = on, so a
 * promise resolves only once the server has flushed its WAL. A batch is many commands (group
 * commit). A failed batch fails every batch queued after it, until recover().
 */
export class PostgresStore implements Store, SharedStore {
  readonly dialect = 'postgres';
  /** Several writ processes may share the database: memory never knows every key or nonce. */
  readonly exclusive = false;
  private readonly r: PostgresReads;
  private readonly o: PostgresOutboxReads;
  private readonly w: PgWriter;
  private readonly leases = new Map<'signer' | 'outbox', PgLease>();
  /** Whether the database answers (problem(), GET /healthz), on a connection of its own; none when read-only. */
  private health: { readonly probe: DatabaseProbe; readonly pool: pg.Pool } | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly reads: pg.Pool,
    private readonly writes: pg.Pool,
    readonly durability: string,
    /** What opening did to the schema. */
    readonly migration: MigrationResult,
    epoch: Epoch,
  ) {
    this.r = new PostgresReads(reads);
    this.o = new PostgresOutboxReads(reads);
    this.w = new PgWriter(writes, epoch);
  }

  /**
   * Connects, checks that the database can take writ's writes (not read-only, schema not newer than
   * this writ) and migrates it; throws a StoreOpenError that says what to do otherwise.
   */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const url = checkUrl(options.url);
    // pg_stat_activity then tells an operator which process holds which connection (and lease).
    const name = `${options.command ?? 'writ'} pid ${process.pid}`.slice(0, 50);
    const reads = openPool(url, READ_POOL_SIZE, name);
    const writes = openPool(url, 1, `${name} (writer)`.slice(0, 63));
    try {
      let client: pg.PoolClient;
      try {
        client = await writes.connect();
      } catch (err) {
        throw explainConnectError(err, url);
      }
      try {
        const durability = options.readOnly ? 'postgresql (read-only)' : (await preflight(client, url)).durability;
        const migration = await migrate(client, url, !options.readOnly);
        // Read before the caller loads its caches (log heads, directory): a write after it shows as a move.
        const epoch = (await client.query<Epoch>('SELECT n, registry FROM write_epoch')).rows[0]!;
        const store = new PostgresStore(url, name, reads, writes, durability, migration, epoch);
        if (!options.readOnly) {
          const pool = openPool(url, 1, `${name} (health)`.slice(0, 63));
          store.health = { pool, probe: new DatabaseProbe(pool, (m) => m.replaceAll(url, redactUrl(url))) };
        }
        return store;
      } finally {
        client.release();
      }
    } catch (err) {
      await Promise.all([reads.end(), writes.end()]);
      throw err;
    }
  }

  commit(batch: WriteBatch): Promise<void> {
    return this.w.commit(batch);
  }

  recover(): Promise<void> {
    return this.w.recover();
  }

  async registryEpoch(): Promise<number> {
    return this.r.registryEpoch();
  }

  /** The database's writer lock, taken by the applier from planning a batch to its commit. */
  get turn(): WriteTurn {
    return this.w;
  }

  /** The lease of a role (one per store); from then on the role's writes are fenced by it. */
  lease(role: 'signer' | 'outbox'): Lease {
    let l = this.leases.get(role);
    if (!l) this.leases.set(role, (l = new PgLease(this.url, role, this.name)));
    return l;
  }

  /**
   * `fn` in a write transaction that first checks, when this process took the role's lease, that
   * its lock is still held: a holder that lost it (its connection broke) writes nothing more, and
   * a write that passed the check commits before a successor takes the role (the barrier). With
   * `term`, a write made for an earlier holding of the role is refused even when it is held again.
   */
  private fenced<T>(role: 'signer' | 'outbox', fn: (c: pg.PoolClient) => Promise<T>, term?: number): Promise<T> {
    const lease = this.leases.get(role);
    return this.w.serial(() =>
      this.w.tx(async (c) => {
        if (lease) {
          // Shared with other writes; a process taking the lease over waits for it (lease.ts).
          await c.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [...FENCES[role]]);
          const pid = lease.holder();
          // A write made for an earlier holding (its dispatcher was closed) is refused too.
          const current = term === undefined || term === lease.term();
          const held = current && pid !== null && (await c.query<{ held: boolean }>(HOLDS_LOCK, [...LOCKS[role], pid])).rows[0]!.held;
          if (!held) throw new Error(`this process is not the ${role === 'signer' ? 'checkpoint signer' : 'outbox dispatcher'} (another process holds the role); nothing was written`);
        }
        return fn(c);
      }),
    );
  }

  /** The database does not answer now (it recovers by itself once it does), or undefined. */
  problem(): string | undefined {
    return this.health?.probe.problem;
  }

  getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null> {
    return this.r.getEntity(tenant, type, id, atIndex);
  }

  listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]> {
    return this.r.listEntities(tenant, type, afterId, limit);
  }

  entityVersions(tenant: string, type: string, id: string, afterVersion: number, limit: number): Promise<EntityRow[]> {
    return this.r.entityVersions(tenant, type, id, afterVersion, limit);
  }

  allEntitiesOfType(type: string): Promise<EntityRow[]> {
    return this.r.allEntitiesOfType(type);
  }

  getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null> {
    return this.r.getOutcome(tenant, actor, requestId);
  }

  findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]> {
    return this.r.findOutcomes(tenant, requestId);
  }

  scanEntityHistory(visit: (row: EntityRow) => void): Promise<number> {
    return this.r.scanEntityHistory(visit);
  }

  scanOutcomes(visit: (outcome: StoredOutcome) => void): Promise<number> {
    return this.r.scanOutcomes(visit);
  }

  scanOutcomeKeys(visit: (tenant: string, actor: string, requestId: string) => void): Promise<number> {
    return this.r.scanOutcomeKeys(visit);
  }

  getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null> {
    return this.r.getNonce(tenant, actor, nonce);
  }

  unexpiredNonces(now: number, limit: number): Promise<Array<NonceRow & { tenant: string; actor: string; nonce: string }>> {
    return this.r.unexpiredNonces(now, limit);
  }

  logHeads(): Promise<LogHead[]> {
    return this.r.logHeads();
  }

  readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]> {
    return this.r.readLedger(tenant, scroll, from, limit);
  }

  readLedgerWhere(tenant: string, scroll: string, from: number, to: number, filter: LedgerFilter, limit: number): Promise<LedgerRow[]> {
    return this.r.readLedgerWhere(tenant, scroll, from, to, filter, limit);
  }

  readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null> {
    return this.r.readEnvelope(tenant, scroll, index);
  }

  countOutbox(): Promise<number> {
    return this.o.count();
  }

  async readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return (await this.o.readStored(afterSeq, limit)).map(parsedEvent);
  }

  async outboxEventById(id: string): Promise<OutboxRow | null> {
    const row = await this.o.storedById(id);
    return row ? parsedEvent(row) : null;
  }

  readStoredOutbox(afterSeq: number, limit: number): Promise<StoredOutboxRow[]> {
    return this.o.readStored(afterSeq, limit);
  }

  storedOutboxEventById(id: string): Promise<StoredOutboxRow | null> {
    return this.o.storedById(id);
  }

  outboxHead(): Promise<number> {
    return this.o.head();
  }

  sinkStates(): Promise<SinkState[]> {
    return this.o.sinks();
  }

  deadLetters(sink: string | null, limit: number, onlyRedrive = false): Promise<DeadLetter[]> {
    return this.o.dead(sink, limit, onlyRedrive);
  }

  countDeadLetters(): Promise<Array<{ sink: string; n: number }>> {
    return this.o.countDead();
  }

  deliveryLog(sink: string, limit: number): Promise<DeliveryRow[]> {
    return this.o.log(sink, limit);
  }

  saveOutboxProgress(progress: OutboxProgress): Promise<void> {
    return this.fenced('outbox', (c) => writeOutboxProgress(c, progress), progress.term);
  }

  requestRedrive(sink: string | null, eventId: string | null): Promise<number> {
    return this.w.serial(() => this.w.tx((c) => markRedrive(c, sink, eventId)));
  }

  readLeafHashes(tenant: string, scroll: string, from: number, to: number): Promise<string[]> {
    return this.r.readLeafHashes(tenant, scroll, from, to);
  }

  integrate(batch: IntegrationBatch): Promise<void> {
    return this.fenced('signer', (c) => writeIntegration(c, batch));
  }

  addCosignatures(tenant: string, scroll: string, size: number, note: string, cosignatures: number): Promise<void> {
    return this.fenced('signer', (c) => c.query('UPDATE checkpoints SET note = $1, cosignatures = $2 WHERE tenant = $3 AND scroll = $4 AND size = $5', [note, cosignatures, tenant, scroll, size])).then(() => undefined);
  }

  getTile(tenant: string, scroll: string, level: number, n: number): Promise<TileRow | null> {
    return this.r.getTile(tenant, scroll, level, n);
  }

  latestCheckpoint(tenant: string, scroll: string): Promise<CheckpointRow | null> {
    return this.r.latestCheckpoint(tenant, scroll);
  }

  latestCheckpoints(): Promise<CheckpointRow[]> {
    return this.r.latestCheckpoints();
  }

  checkpoints(tenant: string, scroll: string, fromSize: number, limit: number): Promise<CheckpointRow[]> {
    return this.r.checkpoints(tenant, scroll, fromSize, limit);
  }

  getRedaction(tenant: string, scroll: string, index: number): Promise<Redaction | null> {
    return this.r.getRedaction(tenant, scroll, index);
  }

  entityVersionsOfRecord(tenant: string, scroll: string, index: number): Promise<EntityRow[]> {
    return this.r.entityVersionsOfRecord(tenant, scroll, index);
  }

  recordsOfCommand(tenant: string, scroll: string, actor: string, requestId: string): Promise<LedgerRow[]> {
    return this.r.recordsOfCommand(tenant, scroll, actor, requestId);
  }

  prune(nowMs: number, outcomeRetentionMs: number): Promise<{ nonces: number; outcomes: number }> {
    return this.w.serial(() =>
      this.w.tx(async (c) => ({
        nonces: (await c.query('DELETE FROM nonces WHERE expires_at < $1', [nowMs])).rowCount ?? 0,
        // A 202 is the outcome of a command still held for approval: it stays until its final answer replaces it.
        outcomes: (await c.query('DELETE FROM outcomes WHERE created_at < $1 AND http_status <> 202', [nowMs - outcomeRetentionMs])).rowCount ?? 0,
      })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.leases.values()].map((l) => l.close()));
    await this.w.close();
    this.health?.probe.close();
    await Promise.all([this.reads.end(), this.writes.end(), this.health?.pool.end()]);
  }
}
