import type Database from 'better-sqlite3';
import type { DeadLetter, DeliveryRow, OutboxProgress, OutboxRow, SinkState, StoredOutboxRow } from '../port.js';

type Db = Database.Database;
type Row = Record<string, unknown>;

/**
 * The columns named as StoredOutboxRow's fields, so a row needs no copying, and in the key order of
 * the event's JSON (sink.ts eventJson), so that the parsed event the HTTP API and export give
 * serialises to the bytes every sink sends.
 */
const STORED_COLS = 'id, seq, tenant, scroll, idx AS "index", action, target, version, type, data, ts';

/** Reads of the outbox delivery tables (schema v3), on the reader connection. */
export class OutboxReads {
  private readonly s: ReturnType<typeof readStatements>;

  constructor(db: Db) {
    this.s = readStatements(db);
  }

  readStored(afterSeq: number, limit: number): StoredOutboxRow[] {
    return this.s.readStored.all(afterSeq, limit) as StoredOutboxRow[];
  }

  storedById(id: string): StoredOutboxRow | null {
    return (this.s.storedById.get(id) as StoredOutboxRow | undefined) ?? null;
  }

  head(): number {
    return ((this.s.head.get() as Row).m as number | null) ?? 0;
  }

  sinks(): SinkState[] {
    return (this.s.sinks.all() as Row[]).map((r) => ({
      sink: r.sink as string,
      cursor: r.cursor as number,
      updatedAt: r.updated_at as string,
      disabledAt: (r.disabled_at as string | null) ?? null,
      disabledReason: (r.disabled_reason as string | null) ?? null,
    }));
  }

  dead(sink: string | null, limit: number, onlyRedrive: boolean): DeadLetter[] {
    return (this.s.dead.all(sink, sink, onlyRedrive ? 1 : 0, limit) as Row[]).map((r) => ({
      sink: r.sink as string,
      seq: r.seq as number,
      eventId: r.event_id as string,
      attempts: r.attempts as number,
      lastError: r.last_error as string,
      deadAt: r.dead_at as string,
      redrive: r.redrive === 1,
    }));
  }

  countDead(): Array<{ sink: string; n: number }> {
    return (this.s.countDead.all() as Row[]).map((r) => ({ sink: r.sink as string, n: r.n as number }));
  }

  log(sink: string, limit: number): DeliveryRow[] {
    return (this.s.log.all(sink, limit) as Row[]).map((r) => ({
      sink: r.sink as string,
      eventId: r.event_id as string,
      seq: r.seq as number,
      attempt: r.attempt as number,
      status: (r.status as number | null) ?? null,
      error: (r.error as string | null) ?? null,
      latencyMs: r.latency_ms as number,
      at: r.at as string,
    }));
  }
}

function readStatements(db: Db) {
  return {
    readStored: db.prepare(`SELECT ${STORED_COLS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`),
    storedById: db.prepare(`SELECT ${STORED_COLS} FROM outbox WHERE id = ?`),
    head: db.prepare('SELECT MAX(seq) AS m FROM outbox'),
    sinks: db.prepare('SELECT * FROM outbox_sinks ORDER BY sink'),
    dead: db.prepare('SELECT * FROM outbox_dead WHERE (? IS NULL OR sink = ?) AND redrive >= ? ORDER BY sink, seq LIMIT ?'),
    countDead: db.prepare('SELECT sink, COUNT(*) AS n FROM outbox_dead GROUP BY sink'),
    log: db.prepare('SELECT * FROM outbox_deliveries WHERE sink = ? ORDER BY n DESC LIMIT ?'),
  };
}

/** The event with its `data` parsed; the spread keeps the keys in their order. */
export function parsedEvent(row: StoredOutboxRow): OutboxRow {
  return { ...row, data: JSON.parse(row.data) as unknown };
}

/** Writes of the dispatcher's progress and redrive requests, on the writer thread's connection. */
export class OutboxWrites {
  private readonly save: (p: OutboxProgress) => void;
  private readonly s: ReturnType<typeof writeStatements>;

  constructor(db: Db) {
    const s = (this.s = writeStatements(db));
    this.save = db.transaction((p: OutboxProgress) => {
      for (const c of p.cursors) s.cursor.run(c.sink, c.cursor, p.at);
      for (const d of p.disabled) {
        s.ensure.run(d.sink, p.at);
        s.disable.run(d.reason === null ? null : p.at, d.reason, d.sink);
      }
      for (const d of p.dead) s.dead.run(d.sink, d.seq, d.eventId, d.attempts, d.lastError, d.deadAt);
      for (const r of p.resolved) s.resolve.run(r.sink, r.seq);
      const touched = new Set<string>();
      for (const d of p.deliveries) {
        s.log.run(d.sink, d.eventId, d.seq, d.attempt, d.status, d.error, d.latencyMs, d.at);
        touched.add(d.sink);
      }
      // Keep the newest `keep` rows of each sink: delete below the keep-th newest row number.
      for (const sink of touched) s.prune.run(sink, sink, p.keep);
    });
  }

  saveProgress(p: OutboxProgress): void {
    this.save(p);
  }

  requestRedrive(sink: string | null, eventId: string | null): number {
    return this.s.redrive.run(sink, sink, eventId, eventId).changes;
  }
}

function writeStatements(db: Db) {
  return {
    cursor: db.prepare('INSERT INTO outbox_sinks (sink, cursor, updated_at) VALUES (?,?,?) ON CONFLICT (sink) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at'),
    ensure: db.prepare('INSERT OR IGNORE INTO outbox_sinks (sink, cursor, updated_at) VALUES (?, 0, ?)'),
    disable: db.prepare('UPDATE outbox_sinks SET disabled_at = ?, disabled_reason = ? WHERE sink = ?'),
    dead: db.prepare('INSERT OR REPLACE INTO outbox_dead (sink, seq, event_id, attempts, last_error, dead_at, redrive) VALUES (?,?,?,?,?,?,0)'),
    resolve: db.prepare('DELETE FROM outbox_dead WHERE sink = ? AND seq = ?'),
    log: db.prepare('INSERT INTO outbox_deliveries (sink, event_id, seq, attempt, status, error, latency_ms, at) VALUES (?,?,?,?,?,?,?,?)'),
    prune: db.prepare('DELETE FROM outbox_deliveries WHERE sink = ? AND n <= (SELECT n FROM outbox_deliveries WHERE sink = ? ORDER BY n DESC LIMIT 1 OFFSET ?)'),
    redrive: db.prepare('UPDATE outbox_dead SET redrive = 1 WHERE (? IS NULL OR sink = ?) AND (? IS NULL OR event_id = ?)'),
  };
}
