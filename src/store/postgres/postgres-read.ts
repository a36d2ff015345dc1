import type pg from 'pg';
import { asUnavailable } from './connect.js';
import type { CheckpointRow, EntityRow, LedgerFilter, LedgerRow, LogHead, NonceRow, Redaction, StoredOutcome, TileRow } from '../port.js';

type Row = Record<string, any>;

const ENTITY = 'tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx';
const LEDGER = 'tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code';
const OUTCOME = 'tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx';
/** Current versions only: a row is current when no higher version of its key exists. */
const CURRENT = 'NOT EXISTS (SELECT 1 FROM entity_history n WHERE n.tenant = h.tenant AND n.type = h.type AND n.id = h.id AND n.version > h.version)';
/** Rows a scan reads per query: the whole table never sits in memory at once. */
const SCAN_PAGE = 5000;

/** The store's reads, on the read pool: they see committed (so durable) state only. */
export class PostgresReads {
  constructor(private readonly pool: pg.Pool) {}

  private async all(sql: string, params: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query(sql, params)).rows as Row[];
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  private async one(sql: string, params: unknown[]): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  async getEntity(tenant: string, type: string, id: string, atIndex?: number): Promise<EntityRow | null> {
    const at = atIndex === undefined ? '' : 'AND idx <= $4';
    const row = await this.one(`SELECT ${ENTITY} FROM entity_history WHERE tenant = $1 AND type = $2 AND id = $3 ${at} ORDER BY version DESC LIMIT 1`, atIndex === undefined ? [tenant, type, id] : [tenant, type, id, atIndex]);
    return row ? toEntity(row) : null;
  }

  async listEntities(tenant: string, type: string, afterId: string | null, limit: number): Promise<EntityRow[]> {
    return (await this.all(`SELECT ${ENTITY} FROM entity_history h WHERE tenant = $1 AND type = $2 AND id > $3 AND NOT deleted AND ${CURRENT} ORDER BY id LIMIT $4`, [tenant, type, afterId ?? '', limit])).map(toEntity);
  }

  async entityVersions(tenant: string, type: string, id: string, afterVersion: number, limit: number): Promise<EntityRow[]> {
    return (await this.all(`SELECT ${ENTITY} FROM entity_history WHERE tenant = $1 AND type = $2 AND id = $3 AND version > $4 ORDER BY version LIMIT $5`, [tenant, type, id, afterVersion, limit])).map(toEntity);
  }

  async allEntitiesOfType(type: string): Promise<EntityRow[]> {
    // Only the registries' types, as the SQLite store (its partial index serves them).
    return (await this.all(`SELECT ${ENTITY} FROM entity_history h WHERE type = $1 AND type IN ('key', 'actor', 'flag') AND ${CURRENT}`, [type])).map(toEntity);
  }

  async getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null> {
    const row = await this.one(`SELECT ${OUTCOME} FROM outcomes WHERE tenant = $1 AND request_id = $2 AND actor = $3`, [tenant, requestId, actor]);
    return row ? toOutcome(row) : null;
  }

  async findOutcomes(tenant: string, requestId: string): Promise<StoredOutcome[]> {
    return (await this.all(`SELECT ${OUTCOME} FROM outcomes WHERE tenant = $1 AND request_id = $2 ORDER BY created_at`, [tenant, requestId])).map(toOutcome);
  }

  /** Pages through a table by its primary key (`key`, compared as a row value), SCAN_PAGE rows a query. */
  private async scan(sql: { cols: string; table: string; key: string[] }, visit: (row: Row) => void): Promise<number> {
    let n = 0;
    let after: unknown[] | null = null;
    const keys = sql.key.join(', ');
    const marks = sql.key.map((_, i) => `$${i + 1}`).join(', ');
    for (;;) {
      const where: string = after ? `WHERE (${keys}) > (${marks})` : '';
      const rows: Row[] = await this.all(`SELECT ${sql.cols} FROM ${sql.table} ${where} ORDER BY ${keys} LIMIT ${SCAN_PAGE}`, after ?? []);
      for (const row of rows) visit(row);
      n += rows.length;
      if (rows.length < SCAN_PAGE) return n;
      const last: Row = rows[rows.length - 1]!;
      after = sql.key.map((k) => last[k]);
    }
  }

  scanEntityHistory(visit: (row: EntityRow) => void): Promise<number> {
    return this.scan({ cols: ENTITY, table: 'entity_history', key: ['tenant', 'type', 'id', 'version'] }, (r) => visit(toEntity(r)));
  }

  scanOutcomes(visit: (outcome: StoredOutcome) => void): Promise<number> {
    return this.scan({ cols: OUTCOME, table: 'outcomes', key: ['tenant', 'request_id', 'actor'] }, (r) => visit(toOutcome(r)));
  }

  scanOutcomeKeys(visit: (tenant: string, actor: string, requestId: string) => void): Promise<number> {
    return this.scan({ cols: 'tenant, actor, request_id', table: 'outcomes', key: ['tenant', 'request_id', 'actor'] }, (r) => visit(r.tenant, r.actor, r.request_id));
  }

  async getNonce(tenant: string, actor: string, nonce: string): Promise<NonceRow | null> {
    const row = await this.one('SELECT command_hash, expires_at FROM nonces WHERE tenant = $1 AND actor = $2 AND nonce = $3', [tenant, actor, nonce]);
    return row ? { commandHash: row.command_hash, expiresAt: row.expires_at } : null;
  }

  async unexpiredNonces(now: number, limit: number): Promise<Array<NonceRow & { tenant: string; actor: string; nonce: string }>> {
    const rows = await this.all('SELECT tenant, actor, nonce, command_hash, expires_at FROM nonces WHERE expires_at >= $1 ORDER BY expires_at LIMIT $2', [now, limit]);
    return rows.map((r) => ({ tenant: r.tenant, actor: r.actor, nonce: r.nonce, commandHash: r.command_hash, expiresAt: r.expires_at }));
  }

  async registryEpoch(): Promise<number> {
    return (await this.one('SELECT registry FROM write_epoch', []))!.registry;
  }

  async logHeads(): Promise<LogHead[]> {
    return (await this.all('SELECT tenant, scroll, size, last_leaf_hash FROM log_heads ORDER BY tenant, scroll', [])).map((r) => ({ tenant: r.tenant, scroll: r.scroll, size: r.size, lastLeafHash: r.last_leaf_hash }));
  }

  async readLedger(tenant: string, scroll: string, from: number, limit: number): Promise<LedgerRow[]> {
    return (await this.all(`SELECT ${LEDGER} FROM ledger WHERE tenant = $1 AND scroll = $2 AND idx >= $3 ORDER BY idx LIMIT $4`, [tenant, scroll, from, limit])).map(toLedger);
  }

  async readLedgerWhere(tenant: string, scroll: string, from: number, to: number, f: LedgerFilter, limit: number): Promise<LedgerRow[]> {
    // A range of the primary key (so bounded by to - from rows), the filters checked on each row.
    const sql = `SELECT ${LEDGER} FROM ledger WHERE tenant = $1 AND scroll = $2 AND idx >= $3 AND idx < $4
      AND ($5::text IS NULL OR actor = $5) AND ($6::text IS NULL OR outcome = $6) AND ($7::text IS NULL OR code = $7) ORDER BY idx LIMIT $8`;
    return (await this.all(sql, [tenant, scroll, from, to, f.actor, f.outcome, f.code, limit])).map(toLedger);
  }

  async readEnvelope(tenant: string, scroll: string, index: number): Promise<string | null> {
    return (await this.one('SELECT envelope FROM ledger WHERE tenant = $1 AND scroll = $2 AND idx = $3', [tenant, scroll, index]))?.envelope ?? null;
  }

  async readLeafHashes(tenant: string, scroll: string, from: number, to: number): Promise<string[]> {
    return (await this.all('SELECT leaf_hash FROM ledger WHERE tenant = $1 AND scroll = $2 AND idx >= $3 AND idx < $4 ORDER BY idx', [tenant, scroll, from, to])).map((r) => r.leaf_hash);
  }

  async getTile(tenant: string, scroll: string, level: number, n: number): Promise<TileRow | null> {
    const row = await this.one('SELECT width, nodes FROM tiles WHERE tenant = $1 AND scroll = $2 AND level = $3 AND n = $4', [tenant, scroll, level, n]);
    return row ? { tenant, scroll, level, n, width: row.width, nodes: row.nodes } : null;
  }

  async latestCheckpoint(tenant: string, scroll: string): Promise<CheckpointRow | null> {
    const row = await this.one('SELECT * FROM checkpoints WHERE tenant = $1 AND scroll = $2 ORDER BY size DESC LIMIT 1', [tenant, scroll]);
    return row ? toCheckpoint(row) : null;
  }

  async latestCheckpoints(): Promise<CheckpointRow[]> {
    return (await this.all('SELECT DISTINCT ON (tenant, scroll) * FROM checkpoints ORDER BY tenant, scroll, size DESC', [])).map(toCheckpoint);
  }

  async checkpoints(tenant: string, scroll: string, fromSize: number, limit: number): Promise<CheckpointRow[]> {
    return (await this.all('SELECT * FROM checkpoints WHERE tenant = $1 AND scroll = $2 AND size >= $3 ORDER BY size LIMIT $4', [tenant, scroll, fromSize, limit])).map(toCheckpoint);
  }

  async getRedaction(tenant: string, scroll: string, index: number): Promise<Redaction | null> {
    const row = await this.one('SELECT redacted_at, redacted_by, reason FROM redactions WHERE tenant = $1 AND scroll = $2 AND idx = $3', [tenant, scroll, index]);
    return row ? { tenant, scroll, index, redactedAt: row.redacted_at, redactedBy: row.redacted_by, reason: row.reason ?? null } : null;
  }

  async entityVersionsOfRecord(tenant: string, scroll: string, index: number): Promise<EntityRow[]> {
    return (await this.all(`SELECT ${ENTITY} FROM entity_history WHERE tenant = $1 AND scroll = $2 AND idx = $3 ORDER BY type, id, version`, [tenant, scroll, index])).map(toEntity);
  }

  async recordsOfCommand(tenant: string, scroll: string, actor: string, requestId: string): Promise<LedgerRow[]> {
    return (await this.all(`SELECT ${LEDGER} FROM ledger WHERE tenant = $1 AND scroll = $2 AND actor = $3 AND request_id = $4 ORDER BY idx`, [tenant, scroll, actor, requestId])).map(toLedger);
  }
}

function toEntity(row: Row): EntityRow {
  return {
    tenant: row.tenant,
    type: row.type,
    id: row.id,
    version: row.version,
    doc: row.doc === null ? null : JSON.parse(row.doc),
    deleted: row.deleted,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    scroll: row.scroll,
    index: row.idx,
  };
}

function toOutcome(row: Row): StoredOutcome {
  return {
    tenant: row.tenant,
    actor: row.actor,
    requestId: row.request_id,
    commandHash: row.command_hash,
    sigDigest: row.sig_digest ?? null,
    httpStatus: row.http_status,
    response: row.response,
    createdAt: row.created_at,
    scroll: row.scroll,
    index: row.idx,
  };
}

function toCheckpoint(row: Row): CheckpointRow {
  return { tenant: row.tenant, scroll: row.scroll, size: row.size, root: row.root, note: row.note, createdAt: row.created_at, cosignatures: row.cosignatures };
}

function toLedger(row: Row): LedgerRow {
  return {
    tenant: row.tenant,
    scroll: row.scroll,
    index: row.idx,
    leaf: row.leaf,
    leafHash: row.leaf_hash,
    requestId: row.request_id,
    actor: row.actor,
    commandHash: row.command_hash,
    outcome: row.outcome,
    code: row.code ?? null,
  };
}
