import pg from 'pg';
import type { Lease } from '../shared.js';
import { connectionConfig } from './connect.js';
import { FENCES, LOCKS, type LeaseName } from './locks.js';

/** How often a process tries to take a free role, and checks that it still holds its own. */
export const LEASE_INTERVAL_MS = 1000;

/**
 * A role held through a session advisory lock on a connection of its own. PostgreSQL drops the lock
 * when that connection ends, however the process ends (SIGKILL, a crash, a lost network), so another
 * process takes the role over at its next try, within LEASE_INTERVAL_MS. A holder checks its
 * connection every interval and gives the role up when it broke; the role's writes check again, in
 * their transaction, that this connection's backend still holds the lock (HOLDS_LOCK), so a holder
 * that has not noticed yet cannot write beside its successor. A write that passed that check just
 * before the lock was lost may still be on its way: the new holder waits for it at the role's
 * barrier (FENCES) before it counts as holding, so it reads what its predecessor wrote last.
 */
export class PgLease implements Lease {
  onChange: ((held: boolean) => void) | undefined;
  private client: pg.Client | null = null;
  /** The backend pid of the connection holding the lock, or null. */
  private pid: number | null = null;
  /** Holdings so far; the current one's number is term() while held. */
  private terms = 0;
  private busy = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly applicationName: string;

  constructor(
    private readonly url: string,
    readonly role: LeaseName,
    applicationName: string,
  ) {
    this.applicationName = `${applicationName} (${role})`.slice(0, 63);
    this.timer = setInterval(() => void this.tick(), LEASE_INTERVAL_MS);
    this.timer.unref();
    this.first = this.tick();
  }

  private readonly first: Promise<void>;

  ready(): Promise<void> {
    return this.first;
  }

  held(): boolean {
    return this.pid !== null;
  }

  term(): number | null {
    return this.pid === null ? null : this.terms;
  }

  /** The backend pid holding the lock for this process (for the fence), or null. */
  holder(): number | null {
    return this.pid;
  }

  private async tick(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    let c = this.client;
    try {
      if (!c) {
        c = new pg.Client(connectionConfig(this.url, this.applicationName));
        const mine = c;
        mine.on('error', () => this.lost(mine));
        mine.on('end', () => this.lost(mine));
        this.client = c;
        await c.connect();
      }
      if (this.pid === null) {
        const { rows } = await c.query<{ ok: boolean; pid: number }>('SELECT pg_try_advisory_lock($1, $2) AS ok, pg_backend_pid() AS pid', [...LOCKS[this.role]]);
        if (rows[0]!.ok && !this.closed) {
          // Waits for every write transaction of a predecessor that passed its lease check.
          await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...FENCES[this.role]]);
          if (this.closed || c !== this.client) return;
          this.terms++;
          this.pid = rows[0]!.pid;
          this.onChange?.(true);
        }
      } else await c.query('SELECT 1');
    } catch {
      if (c) this.lost(c);
    } finally {
      this.busy = false;
    }
  }

  private lost(c: pg.Client): void {
    if (c !== this.client) return;
    this.client = null;
    c.end().catch(() => undefined);
    if (this.pid !== null) {
      this.pid = null;
      this.onChange?.(false);
    }
  }

  /** Gives the role up (closing the connection releases the lock). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const c = this.client;
    this.client = null;
    this.pid = null;
    await c?.end().catch(() => undefined);
  }
}
