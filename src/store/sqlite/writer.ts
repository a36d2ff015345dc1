import Database from 'better-sqlite3';
import type { IntegrationBatch, WriteBatch } from '../port.js';
import { tune, WAL_AUTOCHECKPOINT_PAGES, WRITER_CACHE_KIB } from './pragmas.js';

type Db = Database.Database;

/**
 * The write side of the SQLite store: one connection in WAL mode with synchronous=FULL, so COMMIT
 * returns only once the WAL is synced. It runs in the writer thread (writer-worker.ts); the
 * statements and the batch transaction live here so that they read as plain SQLite.
 */
export class SqliteWriter {
  private readonly db: Db;
  private readonly s: ReturnType<typeof statements>;
  private readonly applyBatch: (batch: WriteBatch) => void;
  private readonly applyIntegration: (batch: IntegrationBatch) => void;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    tune(this.db, WRITER_CACHE_KIB);
    this.s = statements(this.db);
    const s = this.s;
    this.applyBatch = this.db.transaction((batch: WriteBatch) => {
      for (const e of batch.entities) {
        const args = [e.tenant, e.type, e.id, e.version, e.deleted ? null : JSON.stringify(e.doc), e.deleted ? 1 : 0, e.updatedAt, e.updatedBy, e.scroll, e.index];
        s.putHistory.run(...args);
      }
      for (const { row: l, envelope } of batch.records) {
        s.appendLedger.run(l.tenant, l.scroll, l.index, l.leaf, l.leafHash, l.requestId, l.actor, l.commandHash, l.outcome, l.code, envelope);
      }
      for (const e of batch.outbox) s.addOutbox.run(e.id, e.tenant, e.scroll, e.index, e.action, e.target, e.version, e.type, JSON.stringify(e.data), e.ts);
      for (const o of batch.outcomes) s.putOutcome.run(o.tenant, o.actor, o.requestId, o.commandHash, o.sigDigest, o.httpStatus, o.response, o.createdAt, o.scroll, o.index);
      for (const o of batch.outcomeUpdates ?? []) s.replaceOutcome.run(o.tenant, o.actor, o.requestId, o.commandHash, o.sigDigest, o.httpStatus, o.response, o.createdAt, o.scroll, o.index);
      for (const n of batch.nonces) s.putNonce.run(n.tenant, n.actor, n.nonce, n.commandHash, n.expiresAt);
      for (const r of batch.redactions ?? []) {
        s.eraseEnvelope.run(r.tenant, r.scroll, r.index);
        s.putRedaction.run(r.tenant, r.scroll, r.index, r.redactedAt, r.redactedBy, r.reason);
      }
    });
    this.applyIntegration = this.db.transaction((batch: IntegrationBatch) => {
      for (const t of batch.tiles) s.putTile.run(t.tenant, t.scroll, t.level, t.n, t.width, t.nodes);
      const c = batch.checkpoint;
      s.addCheckpoint.run(c.tenant, c.scroll, c.size, c.root, c.note, c.createdAt, c.cosignatures);
    });
  }

  /** Applies the batch in one transaction; it is durable when this returns (synchronous=FULL). */
  commit(batch: WriteBatch): void {
    this.applyBatch(batch);
  }

  /** Writes tiles and the checkpoint over them in one transaction; durable when this returns. */
  integrate(batch: IntegrationBatch): void {
    this.applyIntegration(batch);
  }

  addCosignatures(tenant: string, scroll: string, size: number, note: string, cosignatures: number): void {
    this.s.setNote.run(note, cosignatures, tenant, scroll, size);
  }

  prune(nowMs: number, outcomeRetentionMs: number): { nonces: number; outcomes: number } {
    return this.db.transaction(() => ({
      nonces: this.s.pruneNonces.run(nowMs).changes,
      outcomes: this.s.pruneOutcomes.run(nowMs - outcomeRetentionMs).changes,
    }))();
  }

  close(): void {
    this.db.close();
  }
}

const ENTITY_COLS = 'tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx';

function statements(db: Db) {
  return {
    putHistory: db.prepare(`INSERT INTO entity_history (${ENTITY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)`),
    appendLedger: db.prepare('INSERT INTO ledger (tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    addOutbox: db.prepare('INSERT INTO outbox (id, tenant, scroll, idx, action, target, version, type, data, ts) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    putOutcome: db.prepare('INSERT OR IGNORE INTO outcomes (tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    replaceOutcome: db.prepare('INSERT OR REPLACE INTO outcomes (tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    putNonce: db.prepare('INSERT OR IGNORE INTO nonces (tenant, actor, nonce, command_hash, expires_at) VALUES (?,?,?,?,?)'),
    eraseEnvelope: db.prepare('UPDATE ledger SET envelope = NULL WHERE tenant = ? AND scroll = ? AND idx = ?'),
    putRedaction: db.prepare('INSERT OR IGNORE INTO redactions (tenant, scroll, idx, redacted_at, redacted_by, reason) VALUES (?,?,?,?,?,?)'),
    putTile: db.prepare('INSERT OR REPLACE INTO tiles (tenant, scroll, level, n, width, nodes) VALUES (?,?,?,?,?,?)'),
    addCheckpoint: db.prepare('INSERT INTO checkpoints (tenant, scroll, size, root, note, created_at, cosignatures) VALUES (?,?,?,?,?,?,?)'),
    setNote: db.prepare('UPDATE checkpoints SET note = ?, cosignatures = ? WHERE tenant = ? AND scroll = ? AND size = ?'),
    pruneNonces: db.prepare('DELETE FROM nonces WHERE expires_at < ?'),
    // A 202 is the outcome of a command still held for approval (possibly longer than the retention):
    // it stays until its final answer replaces it, so its requestId cannot be taken meanwhile.
    pruneOutcomes: db.prepare('DELETE FROM outcomes WHERE created_at < ? AND http_status <> 202'),
  };
}
