/**
 * SQLite schema, versions 1 to 3. Applied by migrate() in one transaction; PRAGMA user_version records it.
 * Indexes are few on purpose: every index keyed by a random value (request ids, nonces) costs one
 * scattered page per command in each WAL commit.
 */
export const SCHEMA_VERSION = 3;

export const SCHEMA_V1 = `
-- Every version of every entity; the current one is the highest version of its key.
CREATE TABLE IF NOT EXISTS entity_history (
  tenant TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
  version INTEGER NOT NULL, doc TEXT, deleted INTEGER NOT NULL,
  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY (tenant, type, id, version)
) WITHOUT ROWID;
-- Only the system types are read by type (the key, role and flag registries at start-up).
CREATE INDEX IF NOT EXISTS entity_history_system ON entity_history (type) WHERE type IN ('key', 'actor', 'flag');
CREATE TABLE IF NOT EXISTS ledger (
  tenant TEXT NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  leaf BLOB NOT NULL, leaf_hash TEXT NOT NULL,
  request_id TEXT NOT NULL, actor TEXT NOT NULL, command_hash TEXT NOT NULL,
  outcome TEXT NOT NULL, code TEXT,
  -- The command body beside the leaf (not in it), so that it can be redacted without breaking a hash.
  envelope TEXT,
  PRIMARY KEY (tenant, scroll, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  action TEXT NOT NULL, target TEXT, version INTEGER, type TEXT NOT NULL, data TEXT NOT NULL, ts TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (
  tenant TEXT NOT NULL, actor TEXT NOT NULL, request_id TEXT NOT NULL,
  command_hash TEXT NOT NULL, sig_digest TEXT, http_status INTEGER NOT NULL, response TEXT NOT NULL,
  created_at INTEGER NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  -- (tenant, request_id) first: the same key serves GET /v1/commands/{tenant}/{requestId}.
  PRIMARY KEY (tenant, request_id, actor)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outcomes_by_age ON outcomes (created_at);
CREATE TABLE IF NOT EXISTS nonces (
  tenant TEXT NOT NULL, actor TEXT NOT NULL, nonce TEXT NOT NULL,
  command_hash TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (tenant, actor, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at);
`;

/**
 * Version 2: the verifiable ledger (DESIGN §6). Tiles hold the Merkle tree as C2SP tlog-tiles of
 * 256 hashes plus the seven levels inside each tile (see src/ledger/tile-layout.ts), so a proof
 * is a few row reads with no hashing. Checkpoints are the signed notes, with any cosignatures.
 */
export const SCHEMA_V2 = `
CREATE TABLE IF NOT EXISTS tiles (
  tenant TEXT NOT NULL, scroll TEXT NOT NULL, level INTEGER NOT NULL, n INTEGER NOT NULL,
  width INTEGER NOT NULL, nodes BLOB NOT NULL,
  PRIMARY KEY (tenant, scroll, level, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant TEXT NOT NULL, scroll TEXT NOT NULL, size INTEGER NOT NULL, root TEXT NOT NULL,
  note TEXT NOT NULL, created_at TEXT NOT NULL, cosignatures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, scroll, size)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS redactions (
  tenant TEXT NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  redacted_at TEXT NOT NULL, redacted_by TEXT NOT NULL, reason TEXT,
  PRIMARY KEY (tenant, scroll, idx)
) WITHOUT ROWID;
`;

/**
 * Version 3: delivery of the outbox (DESIGN §7).
 *
 * The v1 outbox table is WITHOUT ROWID keyed by the event id, a UUIDv7. Its order is not commit
 * order: ids of one millisecond sort by their random bits, and a clock that steps back sorts later
 * events first. The dispatcher needs a total order in which a reader never finds a gap filled later,
 * so v3 rebuilds the table as a rowid table whose INTEGER PRIMARY KEY `seq` SQLite assigns as
 * max+1 inside the single writer's transaction: seq order is commit order, every seq at or below
 * the highest one a reader sees is committed, and appending costs one sequential page (no second
 * random index: the UNIQUE index on a UUIDv7 grows at its right edge as well). Rows are never deleted
 * (a deleted last row would let its seq be given out again; AUTOINCREMENT would be needed then).
 * Rows of a v1/v2 database are copied in id order, the best order they have.
 *
 * Per sink: its cursor (every event with seq <= cursor is delivered, dead-lettered or filtered out)
 * and whether a 410 disabled it; its dead letters (a redrive request marks them); its delivery log,
 * pruned to the newest `outbox.deliveryLogKeep` rows of the sink.
 */
export const SCHEMA_V3 = `
CREATE TABLE outbox_v3 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, scroll TEXT NOT NULL, idx INTEGER NOT NULL,
  action TEXT NOT NULL, target TEXT, version INTEGER, type TEXT NOT NULL, data TEXT NOT NULL, ts TEXT NOT NULL
);
INSERT INTO outbox_v3 (id, tenant, scroll, idx, action, target, version, type, data, ts)
  SELECT id, tenant, scroll, idx, action, target, version, type, data, ts FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
CREATE TABLE IF NOT EXISTS outbox_sinks (
  sink TEXT PRIMARY KEY, cursor INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
  disabled_at TEXT, disabled_reason TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_dead (
  sink TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL, attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL, dead_at TEXT NOT NULL, redrive INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sink, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_deliveries (
  n INTEGER PRIMARY KEY, sink TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL,
  attempt INTEGER NOT NULL, status INTEGER, error TEXT, latency_ms REAL NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_deliveries_by_sink ON outbox_deliveries (sink, n);
`;
