import type pg from 'pg';
import { asUnavailable } from './connect.js';
import type { DeadLetter, DeliveryRow, OutboxProgress, SinkState, StoredOutboxRow } from '../port.js';

type Row = Record<string, any>;

/**
 * The columns named as StoredOutboxRow's fields, in the key order of the event's JSON (as the SQLite
 * store's outbox-sql.ts), so the parsed event serialises to the bytes every sink sends.
 */
const STORED = 'id, seq, tenant, scroll, idx AS "index", action, target, version, type, data, ts';

/** Reads of the outbox and its delivery tables, on the read pool. */
export class PostgresOutboxReads {
  constructor(private readonly pool: pg.Pool) {}

  private async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query(sql, params)).rows as Row[];
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  async count(): Promise<number> {
    return (await this.all('SELECT COUNT(*) AS n FROM outbox'))[0]!.n;
  }

  async readStored(afterSeq: number, limit: number): Promise<StoredOutboxRow[]> {
    return (await this.all(`SELECT ${STORED} FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])) as StoredOutboxRow[];
  }

  async storedById(id: string): Promise<StoredOutboxRow | null> {
    return ((await this.all(`SELECT ${STORED} FROM outbox WHERE id = $1`, [id]))[0] as StoredOutboxRow | undefined) ?? null;
  }

  async head(): Promise<number> {
    return (await this.all('SELECT COALESCE(MAX(seq), 0) AS m FROM outbox'))[0]!.m;
  }

  async sinks(): Promise<SinkState[]> {
    return (await this.all('SELECT * FROM outbox_sinks ORDER BY sink')).map((r) => ({ sink: r.sink, cursor: r.cursor, updatedAt: r.updated_at, disabledAt: r.disabled_at ?? null, disabledReason: r.disabled_reason ?? null }));
  }

  async dead(sink: string | null, limit: number, onlyRedrive: boolean): Promise<DeadLetter[]> {
    const rows = await this.all('SELECT * FROM outbox_dead WHERE ($1::text IS NULL OR sink = $1) AND (redrive OR NOT $2) ORDER BY sink, seq LIMIT $3', [sink, onlyRedrive, limit]);
    return rows.map((r) => ({ sink: r.sink, seq: r.seq, eventId: r.event_id, attempts: r.attempts, lastError: r.last_error, deadAt: r.dead_at, redrive: r.redrive }));
  }

  async countDead(): Promise<Array<{ sink: string; n: number }>> {
    return (await this.all('SELECT sink, COUNT(*) AS n FROM outbox_dead GROUP BY sink ORDER BY sink')).map((r) => ({ sink: r.sink, n: r.n }));
  }

  async log(sink: string, limit: number): Promise<DeliveryRow[]> {
    const rows = await this.all('SELECT * FROM outbox_deliveries WHERE sink = $1 ORDER BY n DESC LIMIT $2', [sink, limit]);
    return rows.map((r) => ({ sink: r.sink, eventId: r.event_id, seq: r.seq, attempt: r.attempt, status: r.status ?? null, error: r.error ?? null, latencyMs: r.latency_ms, at: r.at }));
  }
}

/** The dispatcher's cursors, dead letters and delivery log, inside the caller's transaction. */
export async function writeOutboxProgress(c: pg.PoolClient, p: OutboxProgress): Promise<void> {
  for (const k of p.cursors) {
    await c.query('INSERT INTO outbox_sinks (sink, cursor, updated_at) VALUES ($1, $2, $3) ON CONFLICT (sink) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at', [k.sink, k.cursor, p.at]);
  }
  for (const d of p.disabled) {
    await c.query('INSERT INTO outbox_sinks (sink, cursor, updated_at) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING', [d.sink, p.at]);
    await c.query('UPDATE outbox_sinks SET disabled_at = $1, disabled_reason = $2 WHERE sink = $3', [d.reason === null ? null : p.at, d.reason, d.sink]);
  }
  for (const d of p.dead) {
    await c.query(
      `INSERT INTO outbox_dead (sink, seq, event_id, attempts, last_error, dead_at, redrive) VALUES ($1,$2,$3,$4,$5,$6,false)
       ON CONFLICT (sink, seq) DO UPDATE SET event_id = excluded.event_id, attempts = excluded.attempts, last_error = excluded.last_error, dead_at = excluded.dead_at, redrive = false`,
      [d.sink, d.seq, d.eventId, d.attempts, d.lastError, d.deadAt],
    );
  }
  for (const r of p.resolved) await c.query('DELETE FROM outbox_dead WHERE sink = $1 AND seq = $2', [r.sink, r.seq]);
  const d = p.deliveries;
  if (d.length > 0) {
    await c.query(
      `INSERT INTO outbox_deliveries (sink, event_id, seq, attempt, status, error, latency_ms, at)
       SELECT sink, event_id, seq, attempt, status, error, latency_ms, at
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::integer[], $6::text[], $7::float8[], $8::text[]) WITH ORDINALITY AS u(sink, event_id, seq, attempt, status, error, latency_ms, at, ord)
       ORDER BY ord`,
      [d.map((x) => x.sink), d.map((x) => x.eventId), d.map((x) => x.seq), d.map((x) => x.attempt), d.map((x) => x.status), d.map((x) => x.error), d.map((x) => x.latencyMs), d.map((x) => x.at)],
    );
    // Keep the newest `keep` rows of each sink touched: delete below the keep-th newest row number.
    for (const sink of new Set(d.map((x) => x.sink))) {
      await c.query('DELETE FROM outbox_deliveries WHERE sink = $1 AND n <= (SELECT n FROM outbox_deliveries WHERE sink = $1 ORDER BY n DESC LIMIT 1 OFFSET $2)', [sink, p.keep]);
    }
  }
}

/** Marks dead letters for redrive; returns how many. */
export async function markRedrive(c: pg.PoolClient, sink: string | null, eventId: string | null): Promise<number> {
  const r = await c.query('UPDATE outbox_dead SET redrive = true WHERE ($1::text IS NULL OR sink = $1) AND ($2::text IS NULL OR event_id = $2)', [sink, eventId]);
  return r.rowCount ?? 0;
}
