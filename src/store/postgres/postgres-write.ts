import type pg from 'pg';
import type { EntityRow, IntegrationBatch, Redaction, StoredOutcome, WriteBatch } from '../port.js';

type Client = pg.PoolClient;

/**
 * The SQL of one write batch, run inside the caller's transaction: one statement per table, its rows
 * passed as arrays and spread by unnest (a batch of hundreds of commands is a handful of round trips).
 */
/** The write epoch after a batch: every batch of every process counts in `n`; `registry` only batches that wrote a key, role or flag. */
export interface Epoch {
  readonly n: number;
  readonly registry: number;
}

/** Entity types whose rows every process caches (src/state/directory.ts): a write to one moves `registry`. */
const REGISTRY_TYPES = new Set(['key', 'actor', 'flag']);

export async function writeBatch(c: Client, batch: WriteBatch): Promise<Epoch> {
  if (batch.entities.length > 0) await insertEntities(c, batch.entities);
  if (batch.records.length > 0) {
    await moveHeads(c, batch.records.map((r) => r.row));
    const r = batch.records;
    await c.query(
      `INSERT INTO ledger (tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code, envelope)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`,
      [r.map((x) => x.row.tenant), r.map((x) => x.row.scroll), r.map((x) => x.row.index), r.map((x) => x.row.leaf), r.map((x) => x.row.leafHash), r.map((x) => x.row.requestId), r.map((x) => x.row.actor), r.map((x) => x.row.commandHash), r.map((x) => x.row.outcome), r.map((x) => x.row.code), r.map((x) => x.envelope)],
    );
  }
  if (batch.outbox.length > 0) {
    const o = batch.outbox;
    // seq = max + 1 in batch order: writers are serialised (one per database at a time), so seq order is commit order.
    await c.query(
      `INSERT INTO outbox (seq, id, tenant, scroll, idx, action, target, version, type, data, ts)
       SELECT (SELECT COALESCE(MAX(seq), 0) FROM outbox) + u.ord, u.id, u.tenant, u.scroll, u.idx, u.action, u.target, u.version, u.type, u.data, u.ts
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])
         WITH ORDINALITY AS u(id, tenant, scroll, idx, action, target, version, type, data, ts, ord)`,
      [o.map((e) => e.id), o.map((e) => e.tenant), o.map((e) => e.scroll), o.map((e) => e.index), o.map((e) => e.action), o.map((e) => e.target), o.map((e) => e.version), o.map((e) => e.type), o.map((e) => JSON.stringify(e.data)), o.map((e) => e.ts)],
    );
  }
  // The first outcome of a key wins; an update (a held command's final answer) replaces it.
  if (batch.outcomes.length > 0) await firstOutcomes(c, batch.outcomes);
  if (batch.outcomeUpdates?.length) await putOutcomes(c, batch.outcomeUpdates, 'DO UPDATE SET command_hash = excluded.command_hash, sig_digest = excluded.sig_digest, http_status = excluded.http_status, response = excluded.response, created_at = excluded.created_at, scroll = excluded.scroll, idx = excluded.idx');
  if (batch.nonces.length > 0) await putNonces(c, batch.nonces);
  for (const r of batch.redactions ?? []) await erase(c, r);
  for (const v of batch.erasedVersions ?? []) await eraseVersion(c, v);
  const registry = batch.entities.some((e) => REGISTRY_TYPES.has(e.type)) ? ', registry = registry + 1' : '';
  return (await c.query<Epoch>(`UPDATE write_epoch SET n = n + 1${registry} RETURNING n, registry`)).rows[0]!;
}

async function insertEntities(c: Client, e: readonly EntityRow[]): Promise<void> {
  await c.query(
    `INSERT INTO entity_history (tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::text[], $10::bigint[])`,
    [e.map((x) => x.tenant), e.map((x) => x.type), e.map((x) => x.id), e.map((x) => x.version), e.map((x) => (x.deleted ? null : JSON.stringify(x.doc))), e.map((x) => x.deleted), e.map((x) => x.updatedAt), e.map((x) => x.updatedBy), e.map((x) => x.scroll), e.map((x) => x.index)],
  );
}

/**
 * Stores the first outcome of each key. A key that has one already keeps it (a refusal recorded for
 * a reused requestId, IDEMPOTENCY_KEY_REUSED, is not its answer); but one whose stored outcome is of
 * the same command and names another record means that command was applied twice, by two processes
 * that both found no outcome: the batch fails, so the second application never becomes visible.
 * Run as its own statement after the insert, so it sees an outcome committed while the insert waited.
 */
async function firstOutcomes(c: Client, o: readonly StoredOutcome[]): Promise<void> {
  const inserted = await putOutcomes(c, o, 'DO NOTHING RETURNING tenant, request_id, actor');
  if (inserted.length === o.length) return;
  const fresh = new Set(inserted.map((r) => `${r.tenant}\n${r.request_id}\n${r.actor}`));
  const rest = o.filter((x) => !fresh.has(`${x.tenant}\n${x.requestId}\n${x.actor}`));
  const { rows } = await c.query<{ tenant: string; request_id: string }>(
    `SELECT o.tenant, o.request_id FROM outcomes o
     JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(tenant, request_id, actor, command_hash, scroll, idx)
       ON o.tenant = u.tenant AND o.request_id = u.request_id AND o.actor = u.actor
     WHERE o.command_hash = u.command_hash AND (o.scroll <> u.scroll OR o.idx <> u.idx)`,
    [rest.map((x) => x.tenant), rest.map((x) => x.requestId), rest.map((x) => x.actor), rest.map((x) => x.commandHash), rest.map((x) => x.scroll), rest.map((x) => x.index)],
  );
  if (rows.length > 0) throw new Error(`requestId ${JSON.stringify(rows[0]!.request_id)} of tenant ${rows[0]!.tenant} was applied by another process meanwhile; the batch was not applied`);
}

/**
 * Nonces, one row per (tenant, actor, nonce). The same nonce again with the same command is a
 * retransmission; with another command it is a replay two processes both let through: the batch fails.
 */
async function putNonces(c: Client, n: WriteBatch['nonces']): Promise<void> {
  const inserted = await c.query<{ nonce: string }>(
    `INSERT INTO nonces (tenant, actor, nonce, command_hash, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) ON CONFLICT DO NOTHING RETURNING nonce`,
    [n.map((x) => x.tenant), n.map((x) => x.actor), n.map((x) => x.nonce), n.map((x) => x.commandHash), n.map((x) => x.expiresAt)],
  );
  if (inserted.rows.length === n.length) return;
  const { rows } = await c.query<{ actor: string }>(
    `SELECT s.actor FROM nonces s JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(tenant, actor, nonce, command_hash)
       ON s.tenant = u.tenant AND s.actor = u.actor AND s.nonce = u.nonce WHERE s.command_hash <> u.command_hash`,
    [n.map((x) => x.tenant), n.map((x) => x.actor), n.map((x) => x.nonce), n.map((x) => x.commandHash)],
  );
  if (rows.length > 0) throw new Error(`a nonce of ${rows[0]!.actor} was used by another command in another process meanwhile; the batch was not applied`);
}

async function putOutcomes(c: Client, o: readonly StoredOutcome[], onConflict: string): Promise<Array<{ tenant: string; request_id: string; actor: string }>> {
  const { rows } = await c.query(
    `INSERT INTO outcomes (tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::bigint[], $9::text[], $10::bigint[])
     ON CONFLICT (tenant, request_id, actor) ${onConflict}`,
    [o.map((x) => x.tenant), o.map((x) => x.actor), o.map((x) => x.requestId), o.map((x) => x.commandHash), o.map((x) => x.sigDigest), o.map((x) => x.httpStatus), o.map((x) => x.response), o.map((x) => x.createdAt), o.map((x) => x.scroll), o.map((x) => x.index)],
  );
  return rows as Array<{ tenant: string; request_id: string; actor: string }>;
}

/**
 * Moves each log's head from the size the batch was planned on to its new size. The batch's records
 * of a log must be contiguous, and the stored head must be where they start: otherwise another
 * writer appended meanwhile (or the batch is wrong) and the whole batch fails, so a log never gets
 * a gap, a duplicate index or a broken `prev` chain.
 */
async function moveHeads(c: Client, rows: ReadonlyArray<{ tenant: string; scroll: string; index: number; leafHash: string }>): Promise<void> {
  const logs = new Map<string, { tenant: string; scroll: string; from: number; to: number; last: string }>();
  for (const r of rows) {
    const key = `${r.tenant}\n${r.scroll}`;
    const log = logs.get(key);
    if (!log) logs.set(key, { tenant: r.tenant, scroll: r.scroll, from: r.index, to: r.index + 1, last: r.leafHash });
    else if (r.index !== log.to) throw new Error(`the batch's records of ${r.tenant}/${r.scroll} are not contiguous (index ${r.index} after ${log.to - 1})`);
    else Object.assign(log, { to: r.index + 1, last: r.leafHash });
  }
  const l = [...logs.values()];
  const { rows: moved } = await c.query<{ n: number }>(
    `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[]) AS u(tenant, scroll, old_size, new_size, last)),
     moved AS (
       INSERT INTO log_heads (tenant, scroll, size, last_leaf_hash)
       SELECT tenant, scroll, new_size, last FROM input i
       WHERE i.old_size = 0 OR EXISTS (SELECT 1 FROM log_heads h WHERE h.tenant = i.tenant AND h.scroll = i.scroll)
       ON CONFLICT (tenant, scroll) DO UPDATE SET size = excluded.size, last_leaf_hash = excluded.last_leaf_hash
       WHERE log_heads.size = (SELECT old_size FROM input i WHERE i.tenant = excluded.tenant AND i.scroll = excluded.scroll)
       RETURNING 1)
     SELECT COUNT(*) AS n FROM moved`,
    [l.map((x) => x.tenant), l.map((x) => x.scroll), l.map((x) => x.from), l.map((x) => x.to), l.map((x) => x.last)],
  );
  if (moved[0]!.n !== l.length) throw new Error('a log moved since this batch was planned (another writer appended to it); the batch was not applied');
}

/**
 * A redaction inside the batch's transaction (as the SQLite writer's erase): the body (or what stays
 * of it), the redaction row, the record's outbox event's data, and the `result` of its stored answer.
 */
async function erase(c: Client, r: Redaction): Promise<void> {
  const redacted = { at: r.redactedAt, by: r.redactedBy, reason: r.reason };
  await c.query('UPDATE ledger SET envelope = $1 WHERE tenant = $2 AND scroll = $3 AND idx = $4', [r.body ?? null, r.tenant, r.scroll, r.index]);
  await c.query('INSERT INTO redactions (tenant, scroll, idx, redacted_at, redacted_by, reason) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING', [r.tenant, r.scroll, r.index, r.redactedAt, r.redactedBy, r.reason]);
  await c.query('UPDATE outbox SET data = $1 WHERE tenant = $2 AND scroll = $3 AND idx = $4', [JSON.stringify({ redacted }), r.tenant, r.scroll, r.index]);
  const key = (await c.query<{ request_id: string; actor: string }>('SELECT request_id, actor FROM ledger WHERE tenant = $1 AND scroll = $2 AND idx = $3', [r.tenant, r.scroll, r.index])).rows[0];
  if (!key) return;
  const answer = (await c.query<{ response: string; scroll: string; idx: number }>('SELECT response, scroll, idx FROM outcomes WHERE tenant = $1 AND request_id = $2 AND actor = $3', [r.tenant, key.request_id, key.actor])).rows[0];
  // Only the answer of this record (a held command's answer may name its final record elsewhere).
  if (!answer || answer.scroll !== r.scroll || answer.idx !== r.index) return;
  const body = JSON.parse(answer.response) as Record<string, unknown>;
  if (!('result' in body)) return;
  delete body.result;
  await c.query('UPDATE outcomes SET response = $1 WHERE tenant = $2 AND request_id = $3 AND actor = $4', [JSON.stringify({ ...body, redacted }), r.tenant, key.request_id, key.actor]);
}

/**
 * An erased entity version, and the copy of its document in the outbox event of the record that
 * wrote it (only an event that carries `doc`). The event's JSON is edited in place, key order kept,
 * as SQLite's json_set does: jsonb would reorder the keys of the bytes a sink sends.
 */
async function eraseVersion(c: Client, v: EntityRow): Promise<void> {
  const doc = JSON.stringify(v.doc);
  await c.query('UPDATE entity_history SET doc = $1 WHERE tenant = $2 AND type = $3 AND id = $4 AND version = $5', [doc, v.tenant, v.type, v.id, v.version]);
  const events = await c.query<{ seq: number; data: string }>('SELECT seq, data FROM outbox WHERE tenant = $1 AND scroll = $2 AND idx = $3 AND target = $4 AND version = $5', [v.tenant, v.scroll, v.index, `${v.type}/${v.id}`, v.version]);
  for (const e of events.rows) {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (!('doc' in data)) continue;
    data.doc = JSON.parse(doc) as unknown;
    await c.query('UPDATE outbox SET data = $1 WHERE seq = $2', [JSON.stringify(data), e.seq]);
  }
}

/** Tiles and the checkpoint over them; a second checkpoint of one size violates the primary key. */
export async function writeIntegration(c: Client, batch: IntegrationBatch): Promise<void> {
  const t = batch.tiles;
  if (t.length > 0) {
    await c.query(
      `INSERT INTO tiles (tenant, scroll, level, n, width, nodes) SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::integer[], $6::bytea[])
       ON CONFLICT (tenant, scroll, level, n) DO UPDATE SET width = excluded.width, nodes = excluded.nodes WHERE tiles.width <= excluded.width`,
      [t.map((x) => x.tenant), t.map((x) => x.scroll), t.map((x) => x.level), t.map((x) => x.n), t.map((x) => x.width), t.map((x) => Buffer.from(x.nodes.buffer, x.nodes.byteOffset, x.nodes.byteLength))],
    );
  }
  const k = batch.checkpoint;
  await c.query('INSERT INTO checkpoints (tenant, scroll, size, root, note, created_at, cosignatures) VALUES ($1,$2,$3,$4,$5,$6,$7)', [k.tenant, k.scroll, k.size, k.root, k.note, k.createdAt, k.cosignatures]);
}
