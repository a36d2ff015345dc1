/**
 * The PostgreSQL schema, as numbered migrations: `schema_migrations` records each one applied
 * (migrate.ts), so a database is upgraded step by step and a writ older than its database refuses it.
 * A migration, once released, never changes: a new one is appended.
 *
 * The tables are SQLite's (src/store/sqlite/schema.ts, version 3) in PostgreSQL types: bytea for
 * leaves and tiles, bigint for indexes, sizes and millisecond times, text for JSON documents (kept as
 * the exact bytes writ wrote, so an event sends what was stored). What the database itself enforces,
 * for several writ processes on one database (docs/deploy.md):
 * - one record per (tenant, scroll, index), and `log_heads` moved only from the size a batch was
 *   planned on (postgres-write.ts), so every log stays dense and chained;
 * - one stored outcome per idempotency key (tenant, requestId, actor) and one row per nonce;
 * - one checkpoint per (tenant, scroll, size): never two of one size with different roots;
 * - one entity version per (tenant, type, id, version).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const V1 = `
CREATE TABLE entity_history (
  tenant text NOT NULL, type text NOT NULL, id text NOT NULL, version bigint NOT NULL,
  doc text, deleted boolean NOT NULL, updated_at text NOT NULL, updated_by text NOT NULL,
  scroll text NOT NULL, idx bigint NOT NULL,
  PRIMARY KEY (tenant, type, id, version)
);
-- The key, role and flag registries are read by type at start-up.
CREATE INDEX entity_history_system ON entity_history (type) WHERE type IN ('key', 'actor', 'flag');
-- A redaction finds the versions its record wrote.
CREATE INDEX entity_history_by_record ON entity_history (tenant, scroll, idx);
CREATE TABLE ledger (
  tenant text NOT NULL, scroll text NOT NULL, idx bigint NOT NULL CHECK (idx >= 0),
  leaf bytea NOT NULL, leaf_hash text NOT NULL,
  request_id text NOT NULL, actor text NOT NULL, command_hash text NOT NULL,
  outcome text NOT NULL, code text,
  -- The command body beside the leaf (not in it), so that it can be redacted without breaking a hash.
  envelope text,
  PRIMARY KEY (tenant, scroll, idx)
);
CREATE INDEX ledger_by_command ON ledger (tenant, scroll, actor, request_id);
-- The size and last leaf of every log, moved in the transaction that appends to it.
CREATE TABLE log_heads (
  tenant text NOT NULL, scroll text NOT NULL, size bigint NOT NULL, last_leaf_hash text NOT NULL,
  PRIMARY KEY (tenant, scroll)
);
-- seq is commit order: given out as max + 1 inside the writers' serialised transactions.
CREATE TABLE outbox (
  seq bigint PRIMARY KEY, id text NOT NULL UNIQUE, tenant text NOT NULL, scroll text NOT NULL, idx bigint NOT NULL,
  action text NOT NULL, target text, version bigint, type text NOT NULL, data text NOT NULL, ts text NOT NULL
);
CREATE INDEX outbox_by_record ON outbox (tenant, scroll, idx);
CREATE TABLE outcomes (
  tenant text NOT NULL, actor text NOT NULL, request_id text NOT NULL,
  command_hash text NOT NULL, sig_digest text, http_status integer NOT NULL, response text NOT NULL,
  created_at bigint NOT NULL, scroll text NOT NULL, idx bigint NOT NULL,
  PRIMARY KEY (tenant, request_id, actor)
);
CREATE INDEX outcomes_by_age ON outcomes (created_at);
CREATE TABLE nonces (
  tenant text NOT NULL, actor text NOT NULL, nonce text NOT NULL,
  command_hash text NOT NULL, expires_at bigint NOT NULL,
  PRIMARY KEY (tenant, actor, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);
CREATE TABLE tiles (
  tenant text NOT NULL, scroll text NOT NULL, level integer NOT NULL, n bigint NOT NULL,
  width integer NOT NULL, nodes bytea NOT NULL,
  PRIMARY KEY (tenant, scroll, level, n)
);
CREATE TABLE checkpoints (
  tenant text NOT NULL, scroll text NOT NULL, size bigint NOT NULL, root text NOT NULL,
  note text NOT NULL, created_at text NOT NULL, cosignatures integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, scroll, size)
);
CREATE TABLE redactions (
  tenant text NOT NULL, scroll text NOT NULL, idx bigint NOT NULL,
  redacted_at text NOT NULL, redacted_by text NOT NULL, reason text,
  PRIMARY KEY (tenant, scroll, idx)
);
CREATE TABLE outbox_sinks (
  sink text PRIMARY KEY, cursor bigint NOT NULL DEFAULT 0, updated_at text NOT NULL,
  disabled_at text, disabled_reason text
);
CREATE TABLE outbox_dead (
  sink text NOT NULL, seq bigint NOT NULL, event_id text NOT NULL, attempts integer NOT NULL,
  last_error text NOT NULL, dead_at text NOT NULL, redrive boolean NOT NULL DEFAULT false,
  PRIMARY KEY (sink, seq)
);
CREATE TABLE outbox_deliveries (
  n bigserial PRIMARY KEY, sink text NOT NULL, event_id text NOT NULL, seq bigint NOT NULL,
  attempt integer NOT NULL, status integer, error text, latency_ms double precision NOT NULL, at text NOT NULL
);
CREATE INDEX outbox_deliveries_by_sink ON outbox_deliveries (sink, n);
-- Counts committed write batches of every process (n), and those that wrote a key, role or flag
-- (registry): a process that finds them moved since its last batch reloads what it caches.
CREATE TABLE write_epoch (one boolean PRIMARY KEY DEFAULT true CHECK (one), n bigint NOT NULL, registry bigint NOT NULL);
INSERT INTO write_epoch (n, registry) VALUES (0, 0);
`;

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'writ store: entities, ledger, outcomes, nonces, tiles, checkpoints, outbox', sql: V1 }];

export const SCHEMA_VERSION = MIGRATIONS.length;
