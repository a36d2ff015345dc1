/**
 * SQLite schema, version 1. Applied by migrate() in one transaction; PRAGMA user_version records it.
 * Indexes are few on purpose: every index keyed by a random value (request ids, nonces) costs one
 * scattered page per command in each WAL commit.
 */
export const SCHEMA_VERSION = 2;

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
