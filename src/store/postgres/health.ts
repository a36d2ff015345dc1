import type pg from 'pg';

/** How often a process asks its database whether it answers (GET /healthz reads the last answer). */
export const PROBE_INTERVAL_MS = 1000;
/** A probe without an answer after this long counts the database as unreachable. */
const PROBE_TIMEOUT_MS = 4000;

/**
 * Whether the database answers, asked every PROBE_INTERVAL_MS on a connection of its own (so a busy
 * read pool never looks like a database that is down). `problem` says since when and why it does
 * not, for an operator; it clears by itself at the first answer after the database is back.
 */
export class DatabaseProbe {
  private why: string | undefined;
  private since: string | null = null;
  private busy = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    /** Hides the store URL (it may hold a password) in a driver's message. */
    private readonly redact: (message: string) => string,
  ) {
    this.timer = setInterval(() => void this.tick(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  get problem(): string | undefined {
    return this.why;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const slow = setTimeout(() => this.fail(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    try {
      await this.pool.query('SELECT 1');
      this.why = undefined;
      this.since = null;
    } catch (err) {
      this.fail(this.redact((err as Error).message || String(err)));
    } finally {
      clearTimeout(slow);
      this.busy = false;
    }
  }

  private fail(reason: string): void {
    this.since ??= new Date().toISOString();
    this.why = `PostgreSQL cannot be reached since ${this.since} (${reason}); writ asks again every ${PROBE_INTERVAL_MS / 1000} s and serves again by itself once it answers`;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
