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
    this.db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS entries USING fts5(tenant UNINDEXED, ref UNINDEXED, path UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2');
      CREATE TABLE IF NOT EXISTS indexed_refs (tenant TEXT NOT NULL, ref TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY (tenant, ref));
    `);
  }

  /** The commit a ref's entries were last indexed at, or null. */
  indexedAt(tenant: string, ref: string): string | null {
    const row = this.db.prepare('SELECT commit_id FROM indexed_refs WHERE tenant = ? AND ref = ?').get(tenant, ref) as { commit_id: string } | undefined;
    return row?.commit_id ?? null;
  }

  /** Refs indexed for a tenant, with their commits. */
  refs(tenant: string): Map<string, string> {
    const rows = this.db.prepare('SELECT ref, commit_id FROM indexed_refs WHERE tenant = ?').all(tenant) as Array<{ ref: string; commit_id: string }>;
    return new Map(rows.map((r) => [r.ref, r.commit_id]));
  }

  /** Replaces the given paths of a ref (null: removed) and records the commit, in one transaction. */
  update(tenant: string, ref: string, commit: string | null, changes: ReadonlyArray<{ path: string; entry: IndexedEntry | null }>): void {
    const del = this.db.prepare('DELETE FROM entries WHERE tenant = ? AND ref = ? AND path = ?');
    const ins = this.db.prepare('INSERT INTO entries (tenant, ref, path, title, body) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      if (commit === null) {
        this.db.prepare('DELETE FROM entries WHERE tenant = ? AND ref = ?').run(tenant, ref);
        this.db.prepare('DELETE FROM indexed_refs WHERE tenant = ? AND ref = ?').run(tenant, ref);
        return;
      }
      for (const c of changes) {
        del.run(tenant, ref, c.path);
        if (c.entry) ins.run(tenant, ref, c.path, c.entry.title, c.entry.body);
      }
      this.db.prepare('INSERT INTO indexed_refs (tenant, ref, commit_id) VALUES (?, ?, ?) ON CONFLICT (tenant, ref) DO UPDATE SET commit_id = excluded.commit_id').run(tenant, ref, commit);
    })();
  }

  /** Forgets everything (reindex). */
  clear(): void {
    this.db.exec('DELETE FROM entries; DELETE FROM indexed_refs;');
  }

  /**
   * The best `limit` hits for `terms` (each matched as a word or prefix, all required) in the
   * tenant, on `refs` (null: every ref). Titles weigh five times the body.
   */
  search(tenant: string, terms: readonly string[], refs: readonly string[] | null, limit: number): SearchHit[] {
    const match = terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' ');
    const scope = refs === null ? '' : ` AND ref IN (${refs.map(() => '?').join(', ')})`;
    const sql = `SELECT ref, path, title, snippet(entries, 4, '[', ']', '…', 12) AS snippet, bm25(entries, 0, 0, 0, 5.0, 1.0) AS rank
      FROM entries WHERE entries MATCH ? AND tenant = ?${scope} ORDER BY rank LIMIT ?`;
    return this.db.prepare(sql).all(match, tenant, ...(refs ?? []), limit) as SearchHit[];
  }

  close(): void {
    this.db.close();
  }
}
