import Database from 'better-sqlite3';

/** One indexed entry: where it is, its title (front matter) and its text. */
export interface IndexedEntry {
  readonly path: string;
  readonly title: string;
  readonly body: string;
}

export interface SearchHit {
  readonly ref: string;
  readonly path: string;
  readonly title: string;
  readonly snippet: string;
  /** bm25 (lower is better, as SQLite FTS5 ranks); hits come best first. */
  readonly rank: number;
}

/**
 * The knowledge pack's full-text index (SQLite FTS5, docs/knowledge.md "Search"): a derived cache
 * of the entries on each tenant's canon and perspectives, in a database file of its own beside the
 * store, kept current as refs move and rebuilt from git by `writ knowledge reindex`. Losing it
 * loses nothing: start-up brings it up to the refs.
 */
export class KnowledgeIndex {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // A derived cache: a power loss may lose its last updates (start-up catches up with the refs), never its consistency.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS entry_rows (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, ref TEXT NOT NULL, path TEXT NOT NULL, UNIQUE (tenant, ref, path));
      CREATE VIRTUAL TABLE IF NOT EXISTS entries USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
      CREATE TABLE IF NOT EXISTS indexed_refs (tenant TEXT NOT NULL, ref TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY (tenant, ref));
    `);
  }

  /** What a ref's entries were last indexed at (a commit; for a perspective `<commit>:<canon commit>`), or null. */
  indexedAt(tenant: string, ref: string): string | null {
    const row = this.db.prepare('SELECT commit_id FROM indexed_refs WHERE tenant = ? AND ref = ?').get(tenant, ref) as { commit_id: string } | undefined;
    return row?.commit_id ?? null;
  }

  /** Refs indexed for a tenant, with their commits. */
  refs(tenant: string): Map<string, string> {
    const rows = this.db.prepare('SELECT ref, commit_id FROM indexed_refs WHERE tenant = ?').all(tenant) as Array<{ ref: string; commit_id: string }>;
    return new Map(rows.map((r) => [r.ref, r.commit_id]));
  }

  /**
   * Replaces the given paths of a ref (null: removed) and records what it was indexed at, in one
   * transaction; with `replace`, the ref's other rows go first.
   */
  update(tenant: string, ref: string, commit: string | null, changes: ReadonlyArray<{ path: string; entry: IndexedEntry | null }>, replace = false): void {
    // Rows are found through entry_rows (indexed by tenant, ref, path), never by scanning the FTS table.
    const find = this.db.prepare('SELECT id FROM entry_rows WHERE tenant = ? AND ref = ? AND path = ?');
    const drop = (id: number) => {
      this.db.prepare('DELETE FROM entries WHERE rowid = ?').run(id);
      this.db.prepare('DELETE FROM entry_rows WHERE id = ?').run(id);
    };
    this.db.transaction(() => {
      if (commit === null || replace) {
        this.db.prepare('DELETE FROM entries WHERE rowid IN (SELECT id FROM entry_rows WHERE tenant = ? AND ref = ?)').run(tenant, ref);
        this.db.prepare('DELETE FROM entry_rows WHERE tenant = ? AND ref = ?').run(tenant, ref);
        this.db.prepare('DELETE FROM indexed_refs WHERE tenant = ? AND ref = ?').run(tenant, ref);
        if (commit === null) return;
      }
      for (const c of changes) {
        const row = find.get(tenant, ref, c.path) as { id: number } | undefined;
        if (row) drop(row.id);
        if (!c.entry) continue;
        const id = Number(this.db.prepare('INSERT INTO entry_rows (tenant, ref, path) VALUES (?, ?, ?)').run(tenant, ref, c.path).lastInsertRowid);
        this.db.prepare('INSERT INTO entries (rowid, title, body) VALUES (?, ?, ?)').run(id, c.entry.title, c.entry.body);
      }
      this.db.prepare('INSERT INTO indexed_refs (tenant, ref, commit_id) VALUES (?, ?, ?) ON CONFLICT (tenant, ref) DO UPDATE SET commit_id = excluded.commit_id').run(tenant, ref, commit);
    })();
  }

  /** Forgets everything (reindex). */
  clear(): void {
    this.db.exec('DELETE FROM entries; DELETE FROM entry_rows; DELETE FROM indexed_refs;');
  }

  /**
   * The best `limit` hits for `terms` (each matched as a word or prefix, all required) in the
   * tenant, on `refs` (null: every ref). Titles weigh five times the body.
   */
  search(tenant: string, terms: readonly string[], refs: readonly string[] | null, limit: number): SearchHit[] {
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' ');
    const scope = refs === null ? '' : ` AND r.ref IN (${refs.map(() => '?').join(', ')})`;
    const sql = `SELECT r.ref AS ref, r.path AS path, entries.title AS title, snippet(entries, 1, '[', ']', '…', 12) AS snippet, bm25(entries, 5.0, 1.0) AS rank
      FROM entries JOIN entry_rows r ON r.id = entries.rowid WHERE entries MATCH ? AND r.tenant = ?${scope} ORDER BY rank LIMIT ?`;
    return this.db.prepare(sql).all(match, tenant, ...(refs ?? []), limit) as SearchHit[];
  }

  close(): void {
    this.db.close();
  }
}
