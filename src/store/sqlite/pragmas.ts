import type Database from 'better-sqlite3';

/** WAL pages after which the writer checkpoints (in its own thread): 4096 pages of 4 KiB = 16 MiB. */
export const WAL_AUTOCHECKPOINT_PAGES = 4096;

/** Settings of every connection: WAL, a page cache big enough for the hot index pages, mmap reads. */
export function tune(db: Database.Database): void {
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');
  db.pragma('temp_store = MEMORY');
}
