import { openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';

/** Who holds a store's writer lock, as the holder described itself in `<db>-lock.json`. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** When the holder took the lock (RFC 3339). */
  readonly since: string;
  /** What the holder is, e.g. `writ serve`. */
  readonly command: string;
}

/**
 * One writer per database file. writ keeps the Merkle tree's tiles, the log heads and the idempotency
 * filter in the writing process's memory (the store is `exclusive`), so a second process appending to
 * the same file would interleave two views of the same logs and break them.
 *
 * The lock is an OS-level lock on a file descriptor held for the life of the process: SQLite's own
 * POSIX advisory lock (fcntl) on an empty database `<db>-lock`, taken with BEGIN EXCLUSIVE and never
 * committed. The kernel drops it when the process ends however it ends (SIGKILL, a crash, a power
 * cut), so a stale lock cannot exist and nothing guesses from pids whether the holder still runs —
 * a pid file (PostgreSQL's postmaster.pid) needs that guess and a careful takeover. SQLite also
 * refuses a second connection of the same process, so two writs opened in one process are refused too.
 *
 * fcntl locks belong to the process and vanish when ANY descriptor of the file is closed, so the
 * lock file is never opened with node:fs once it may be held: it is created (0600) only when absent,
 * and the holder's description lives in a separate file, `<db>-lock.json`, written after the lock
 * is taken (a refused process reads it to say who holds the store).
 */
export class WriterLock {
  private constructor(private readonly db: Database.Database, readonly path: string) {}

  /**
   * Takes the lock on `dbPath`, or throws an Error that names the holder and what to do. The caller
   * MUST keep the returned lock referenced while it writes: a collected lock closes its connection,
   * which drops the OS lock.
   */
  static take(dbPath: string, command: string, now: () => number = Date.now): WriterLock {
    const path = `${dbPath}-lock`;
    createPrivateFile(path);
    const db = new Database(path);
    try {
      // No journal file beside the lock; no waiting: a held lock is refused at once.
      db.pragma('busy_timeout = 0');
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new Error(heldMessage(dbPath, readHolder(path)));
      throw err;
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date(now()).toISOString(), command };
    // Written whole under another name, then renamed: a reader never sees half a description.
    writeFileSync(`${path}.json.tmp`, JSON.stringify(holder) + '\n', { mode: 0o600 });
    renameSync(`${path}.json.tmp`, `${path}.json`);
    return new WriterLock(db, path);
  }

  /** Whether this process still holds the lock. */
  get held(): boolean {
    return this.db.open;
  }

  /** Releases the lock (closing the connection ends its transaction and drops the OS lock). */
  release(): void {
    if (this.db.open) this.db.close();
  }
}

/** Creates `path` with mode 0600 when it does not exist; never opens (and so never closes) an existing one. */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** The holder's description, or null when it left none (or a torn one). */
function readHolder(lockPath: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(`${lockPath}.json`, 'utf8')) as LockHolder;
    return Number.isSafeInteger(h.pid) && h.pid > 0 && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heldMessage(dbPath: string, h: LockHolder | null): string {
  // The description is the last holder's: a process that took the lock a moment ago may not have
  // written its own yet, so a dead pid on this host is reported as what it is.
  const fresh = h !== null && (h.host !== hostname() || alive(h.pid));
  const who = fresh ? `${h.command} (pid ${h.pid} on ${h.host}, since ${h.since})` : 'another process that is starting';
  return (
    `the store ${dbPath} is in use by ${who}: only one writ process may write a home. ` +
    `Stop that process first${fresh ? ` (Ctrl-C in its terminal, or kill ${h.pid} on ${h.host})` : ''}, or point this one at another home with --home. ` +
    '`writ verify` reads a home while its server runs.'
  );
}
