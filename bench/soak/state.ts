import Database from 'better-sqlite3';

/** What the soak compares before and after: every entity's current version and the ledger's size. */
export interface StoreSnapshot {
  /** `tenant \0 type \0 id` → current (highest) version. */
  readonly entities: Map<string, number>;
  readonly records: number;
  readonly okRecords: number;
  /** Bytes of every record: its leaf and the command body stored beside it. */
  readonly ledgerBytes: number;
}

/**
 * Reads the SQLite file directly (read-only, beside the running server: WAL readers see every
 * committed transaction), not through writ's routes, so that the check does not trust the code
 * it checks.
 */
export function snapshot(dbPath: string): StoreSnapshot {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const entities = new Map<string, number>();
    const rows = db.prepare('SELECT tenant, type, id, max(version) AS version FROM entity_history GROUP BY tenant, type, id').iterate() as Iterable<{ tenant: string; type: string; id: string; version: number }>;
    for (const r of rows) entities.set(`${r.tenant}\0${r.type}\0${r.id}`, r.version);
    const l = db
      .prepare("SELECT count(*) AS records, coalesce(sum(outcome = 'OK'), 0) AS ok, coalesce(sum(length(leaf) + coalesce(length(CAST(envelope AS BLOB)), 0)), 0) AS bytes FROM ledger")
      .get() as { records: number; ok: number; bytes: number };
    return { entities, records: l.records, okRecords: l.ok, ledgerBytes: l.bytes };
  } finally {
    db.close();
  }
}

/** Entities created, removed or moved to another version, plus OK records added (or lost). */
export function stateChanges(before: StoreSnapshot, after: StoreSnapshot): number {
  let changed = 0;
  for (const [key, version] of after.entities) if (before.entities.get(key) !== version) changed++;
  for (const key of before.entities.keys()) if (!after.entities.has(key)) changed++;
  return changed + Math.abs(after.okRecords - before.okRecords);
}
