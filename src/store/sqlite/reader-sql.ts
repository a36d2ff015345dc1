import type Database from 'better-sqlite3';
import type { CheckpointRow, EntityRow, LedgerRow, StoredOutcome } from '../port.js';

type Db = Database.Database;
type Row = Record<string, unknown>;

const ENTITY_COLS = 'tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx';

/** The reading connection's SQL, by statement (the writer thread has its own, writer-worker.ts). */
const READER_SQL = {
  getEntity: `SELECT ${ENTITY_COLS} FROM entity_history WHERE tenant = ? AND type = ? AND id = ? ORDER BY version DESC LIMIT 1`,
  getEntityAt: `SELECT ${ENTITY_COLS} FROM entity_history WHERE tenant = ? AND type = ? AND id = ? AND idx <= ? ORDER BY version DESC LIMIT 1`,
  // Current versions only: a row is current when no higher version of its key exists.
  listEntities: `SELECT ${ENTITY_COLS} FROM entity_history h WHERE tenant = ? AND type = ? AND id > ? AND deleted = 0
         AND NOT EXISTS (SELECT 1 FROM entity_history n WHERE n.tenant = h.tenant AND n.type = h.type AND n.id = h.id AND n.version > h.version)
       ORDER BY id LIMIT ?`,
  entityVersions: `SELECT ${ENTITY_COLS} FROM entity_history WHERE tenant = ? AND type = ? AND id = ? AND version > ? ORDER BY version LIMIT ?`,
  allOfType: `SELECT ${ENTITY_COLS} FROM entity_history h INDEXED BY entity_history_system WHERE type = ? AND type IN ('key', 'actor', 'flag')
         AND NOT EXISTS (SELECT 1 FROM entity_history n WHERE n.tenant = h.tenant AND n.type = h.type AND n.id = h.id AND n.version > h.version)`,
  entityHistory: `SELECT ${ENTITY_COLS} FROM entity_history`,
  allOutcomes: 'SELECT * FROM outcomes',
  getOutcome: 'SELECT * FROM outcomes WHERE tenant = ? AND request_id = ? AND actor = ?',
  outcomeKeys: 'SELECT tenant, actor, request_id FROM outcomes',
  findOutcomes: 'SELECT * FROM outcomes WHERE tenant = ? AND request_id = ? ORDER BY created_at',
  getNonce: 'SELECT command_hash, expires_at FROM nonces WHERE tenant = ? AND actor = ? AND nonce = ?',
  unexpiredNonces: 'SELECT tenant, actor, nonce, command_hash, expires_at FROM nonces WHERE expires_at >= ? ORDER BY expires_at LIMIT ?',
  logHeads: 'SELECT l.tenant, l.scroll, l.idx, l.leaf_hash FROM ledger l JOIN (SELECT tenant, scroll, MAX(idx) AS m FROM ledger GROUP BY tenant, scroll) h ON l.tenant = h.tenant AND l.scroll = h.scroll AND l.idx = h.m',
  readLedger: 'SELECT tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code FROM ledger WHERE tenant = ? AND scroll = ? AND idx >= ? ORDER BY idx LIMIT ?',
  // A range of the primary key (so bounded by to - from rows), the filters checked on each row.
  readLedgerWhere: `SELECT tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code FROM ledger
       WHERE tenant = @tenant AND scroll = @scroll AND idx >= @from AND idx < @to
         AND (@actor IS NULL OR actor = @actor) AND (@outcome IS NULL OR outcome = @outcome) AND (@code IS NULL OR code = @code)
       ORDER BY idx LIMIT @limit`,
  readEnvelope: 'SELECT envelope AS body FROM ledger WHERE tenant = ? AND scroll = ? AND idx = ?',
  countOutbox: 'SELECT COUNT(*) AS n FROM outbox',
  leafHashes: 'SELECT leaf_hash FROM ledger WHERE tenant = ? AND scroll = ? AND idx >= ? AND idx < ? ORDER BY idx',
  getTile: 'SELECT width, nodes FROM tiles WHERE tenant = ? AND scroll = ? AND level = ? AND n = ?',
  latestCheckpoint: 'SELECT * FROM checkpoints WHERE tenant = ? AND scroll = ? ORDER BY size DESC LIMIT 1',
  latestCheckpoints: 'SELECT c.* FROM checkpoints c JOIN (SELECT tenant, scroll, MAX(size) AS m FROM checkpoints GROUP BY tenant, scroll) h ON c.tenant = h.tenant AND c.scroll = h.scroll AND c.size = h.m',
  checkpoints: 'SELECT * FROM checkpoints WHERE tenant = ? AND scroll = ? AND size >= ? ORDER BY size LIMIT ?',
  // Both scan one tenant's rows (one log's for the second): they serve writ.Redact, not the command path.
  versionsOfRecord: `SELECT ${ENTITY_COLS} FROM entity_history WHERE tenant = ? AND scroll = ? AND idx = ? ORDER BY type, id, version`,
  recordsOfCommand: 'SELECT tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code FROM ledger WHERE tenant = ? AND scroll = ? AND actor = ? AND request_id = ? ORDER BY idx',
  getRedaction: 'SELECT redacted_at, redacted_by, reason FROM redactions WHERE tenant = ? AND scroll = ? AND idx = ?',
} as const;

export type ReaderStatements = { readonly [K in keyof typeof READER_SQL]: Database.Statement };

/** The reading connection's prepared statements. */
export function readerStatements(db: Db): ReaderStatements {
  return Object.fromEntries(Object.entries(READER_SQL).map(([name, sql]) => [name, db.prepare(sql)])) as unknown as ReaderStatements;
}

export function toEntity(row: Row | undefined): EntityRow | null {
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

export function toOutcome(row: Row | undefined): StoredOutcome | null {
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

export function toCheckpoint(row: Row): CheckpointRow {
  return {
    tenant: row.tenant as string,
    scroll: row.scroll as string,
    size: row.size as number,
    root: row.root as string,
    note: row.note as string,
    createdAt: row.created_at as string,
    cosignatures: row.cosignatures as number,
  };
}

export function toLedger(row: Row): LedgerRow {
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
