import Database from 'better-sqlite3';
import type { IntegrationBatch, OutboxProgress } from '../port.js';
import { STRIDE, type BatchRows } from './batch-rows.js';
import { OutboxWrites } from './outbox-sql.js';
import { BUSY_TIMEOUT_MS, tune, WAL_AUTOCHECKPOINT_PAGES, WRITER_CACHE_KIB } from './pragmas.js';

type Db = Database.Database;

/**
 * The write side of the SQLite store: one connection in WAL mode with synchronous=FULL, so COMMIT
 * returns only once the WAL is synced. It runs in the writer thread (writer-worker.ts); the
 * statements and the batch transaction live here so that they read as plain SQLite.
 */
export class SqliteWriter {
  private readonly db: Db;
  private readonly s: ReturnType<typeof statements>;
  private readonly applyBatch: (rows: BatchRows) => void;
  private readonly applyIntegration: (batch: IntegrationBatch) => void;
  private readonly outbox: OutboxWrites;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Freed bytes are zeroed, not left in the pages' free space: a redaction's erased values (and
    // cells moved by page splits before it) must not stay readable in the file (bench/secure-delete.ts).
    this.db.pragma('secure_delete = ON');
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    tune(this.db, WRITER_CACHE_KIB);
    this.s = statements(this.db);
    this.outbox = new OutboxWrites(this.db);
    const s = this.s;
    this.applyBatch = this.db.transaction((rows: BatchRows) => {
      each(rows.entities, STRIDE.entities, s.putHistory);
      each(rows.records, STRIDE.records, s.appendLedger);
      each(rows.outbox, STRIDE.outbox, s.addOutbox);
      each(rows.outcomes, STRIDE.outcomes, s.putOutcome);
      each(rows.outcomeUpdates, STRIDE.outcomeUpdates, s.replaceOutcome);
      each(rows.nonces, STRIDE.nonces, s.putNonce);
      if (rows.redactions.length > 0) this.erase(rows);
    });
    this.applyIntegration = this.db.transaction((batch: IntegrationBatch) => {
      for (const t of batch.tiles) s.putTile.run(t.tenant, t.scroll, t.level, t.n, t.width, t.nodes);
      const c = batch.checkpoint;
      s.addCheckpoint.run(c.tenant, c.scroll, c.size, c.root, c.note, c.createdAt, c.cosignatures);
    });
  }

  /**
   * A redaction's erasures, inside the batch's transaction: the body (or what stays of it), the
   * redaction row, the copies beside the body (eraseCopies), and the entity versions that held the
   * command's values, each with the document copy in the outbox event of the record that wrote it.
   */
  private erase(rows: BatchRows): void {
    const s = this.s;
    for (let i = 0; i < rows.redactions.length; i += STRIDE.redactions) {
      const [tenant, scroll, index, at, by, reason, body] = rows.redactions.slice(i, i + STRIDE.redactions);
      s.eraseEnvelope.run(body, tenant, scroll, index);
      s.putRedaction.run(tenant, scroll, index, at, by, reason);
      eraseCopies(s, { tenant, scroll, index }, { at, by, reason });
    }
    for (let i = 0; i < rows.erasedVersions.length; i += STRIDE.erasedVersions) {
      const [doc, tenant, type, id, version, scroll, index] = rows.erasedVersions.slice(i, i + STRIDE.erasedVersions);
      s.eraseVersion.run(doc, tenant, type, id, version);
      s.eraseEventDoc.run(doc, tenant, scroll, index, `${type as string}/${id as string}`, version);
    }
  }

  /** Applies the batch (as toRows made it) in one transaction; it is durable when this returns (synchronous=FULL). */
  commit(rows: BatchRows): void {
    this.applyBatch(rows);
    if (rows.redactions.length > 0) this.truncateWal();
  }

  /**
   * The WAL still holds the pages as they were before a redaction: copy it into the database and
   * truncate it now. Without waiting: a reader in the middle of a read (a backup's copy) keeps the
   * WAL until a later checkpoint, rather than stalling every commit behind it.
   */
  private truncateWal(): void {
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** Writes tiles and the checkpoint over them in one transaction; durable when this returns. */
  integrate(batch: IntegrationBatch): void {
    this.applyIntegration(batch);
  }

  addCosignatures(tenant: string, scroll: string, size: number, note: string, cosignatures: number): void {
    this.s.setNote.run(note, cosignatures, tenant, scroll, size);
  }

  /** The dispatcher's cursors, dead letters and delivery log in one transaction. */
  saveOutboxProgress(progress: OutboxProgress): void {
    this.outbox.saveProgress(progress);
  }

  requestRedrive(sink: string | null, eventId: string | null): number {
    return this.outbox.requestRedrive(sink, eventId);
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

/**
 * The copies of a redacted command's data that can go without breaking a proof or the replay, in
 * the redaction's transaction: its outbox event's `data` (the event stays, so commit order and
 * pending deliveries stay; a sink that has not sent it yet sends the marker) and the `result` of
 * its stored answer (which `writ verify` then accepts for a redacted record only; answers.ts).
 * Deliveries already made are out of reach (docs/ledger.md).
 */
function eraseCopies(s: ReturnType<typeof statements>, entry: { tenant: unknown; scroll: unknown; index: unknown }, redacted: { at: unknown; by: unknown; reason: unknown }): void {
  s.eraseEvent.run(JSON.stringify({ redacted }), entry.tenant, entry.scroll, entry.index);
  const key = s.recordKey.get(entry.tenant, entry.scroll, entry.index) as { request_id: string; actor: string } | undefined;
  if (!key) return;
  const answer = s.answerOf.get(entry.tenant, key.request_id, key.actor) as { response: string; scroll: string; idx: number } | undefined;
  // Only the answer of this record (a held command's answer may name its final record elsewhere).
  if (!answer || answer.scroll !== entry.scroll || answer.idx !== entry.index) return;
  const body = JSON.parse(answer.response) as Record<string, unknown>;
  if (!('result' in body)) return;
  delete body.result;
  s.eraseAnswer.run(JSON.stringify({ ...body, redacted }), entry.tenant, key.request_id, key.actor);
}

/** Runs `statement` once per row of a flat parameter array. */
function each(values: readonly unknown[], stride: number, statement: Database.Statement): void {
  for (let i = 0; i < values.length; i += stride) statement.run(values.slice(i, i + stride));
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
    eraseEnvelope: db.prepare('UPDATE ledger SET envelope = ? WHERE tenant = ? AND scroll = ? AND idx = ?'),
    eraseVersion: db.prepare('UPDATE entity_history SET doc = ? WHERE tenant = ? AND type = ? AND id = ? AND version = ?'),
    // Only an event that carries the version's document (`doc`); a redacted record's own event is replaced whole by eraseCopies.
    eraseEventDoc: db.prepare(`UPDATE outbox SET data = json_set(data, '$.doc', json(?)) WHERE tenant = ? AND scroll = ? AND idx = ? AND target = ? AND version = ? AND json_type(data, '$.doc') IS NOT NULL`),
    eraseEvent: db.prepare('UPDATE outbox SET data = ? WHERE tenant = ? AND scroll = ? AND idx = ?'),
    recordKey: db.prepare('SELECT request_id, actor FROM ledger WHERE tenant = ? AND scroll = ? AND idx = ?'),
    answerOf: db.prepare('SELECT response, scroll, idx FROM outcomes WHERE tenant = ? AND request_id = ? AND actor = ?'),
    eraseAnswer: db.prepare('UPDATE outcomes SET response = ? WHERE tenant = ? AND request_id = ? AND actor = ?'),
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
