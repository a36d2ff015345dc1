import type Database from 'better-sqlite3';

/** WAL pages after which the writer checkpoints (in its own thread): 4096 pages of 4 KiB = 16 MiB. */
export const WAL_AUTOCHECKPOINT_PAGES = 4096;

/**
 * The writer's page cache, in KiB (SQLite's default size). At the end of every commit SQLite walks
 * the connection's whole page-cache hash table (pcache1TruncateUnsafe, seen in perf profiles of the
 * writer thread), so a large cache makes each commit dearer: with 64 MiB it took about a tenth of
 * the writer's CPU. The writer only appends to right-hand B-tree edges and touches a few leaves per
 * command; other pages come from the memory map.
 */
export const WRITER_CACHE_KIB = 2000;

/** How long a connection waits for a lock held by another before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Settings of every connection: WAL, a page cache big enough for the hot index pages (the reader's;
 * the writer's is set smaller, above), mmap reads.
 */
export function tune(db: Database.Database, cacheKiB = 65536): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma(`cache_size = -${cacheKiB}`);
  db.pragma('mmap_size = 268435456');
  db.pragma('temp_store = MEMORY');
}
