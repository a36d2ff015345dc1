import type pg from 'pg';
import type { TurnStart, WriteTurn } from '../shared.js';
import type { WriteBatch } from '../port.js';
import { LOCKS } from './locks.js';
import { writeBatch, type Epoch } from './postgres-write.js';

const HANDLED = new WeakSet<pg.PoolClient>();

/**
 * The write side of the PostgreSQL store: every write (batches, integration steps, outbox progress,
 * pruning) runs after the one before has settled, in call order, each in ONE transaction. Within a
 * write turn (WriteTurn, taken by the applier before it plans a batch) they run on the connection
 * that holds the database's writer lock, so no other process commits between this process's
 * planning and its commit.
 */
export class PgWriter implements WriteTurn {
  /** The last write queued; the next one starts when it has settled. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Why a batch failed; batches are refused until recover(). */
  private failed: string | undefined;
  /** The connection holding the writer lock during a turn; 'lost' when it broke in the turn. */
  private turnClient: pg.PoolClient | 'lost' | null = null;
  closed = false;

  constructor(
    private readonly pool: pg.Pool,
    /** The write epoch as of this process's last commit (or when it opened). */
    private epoch: Epoch,
  ) {}

  /**
   * A connection of the pool. A checked-out connection whose server goes away emits 'error', which
   * would end the process without a listener; the query under way rejects anyway, so it is ignored.
   */
  private async checkout(): Promise<pg.PoolClient> {
    const c = await this.pool.connect();
    if (!HANDLED.has(c)) {
      c.on('error', () => undefined);
      HANDLED.add(c);
    }
    return c;
  }

  /** Runs `fn` after every write queued before it has settled. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** `fn` in one transaction; durable when this resolves (synchronous_commit = on). */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.turnClient === 'lost') throw new Error('the connection holding the write turn broke; the batch was not applied');
    const inTurn = this.turnClient !== null;
    const c = this.turnClient ?? (await this.checkout());
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      if (!inTurn) c.release();
      return result;
    } catch (err) {
      // A connection that cannot even roll back is broken: the pool drops it and opens another.
      const broken = await c.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      if (!inTurn) c.release(broken ? (err as Error) : undefined);
      else if (broken) {
        c.release(err as Error);
        this.turnClient = 'lost';
      }
      throw err;
    }
  }

  commit(batch: WriteBatch): Promise<void> {
    return this.serial(async () => {
      if (this.failed) throw new Error(`an earlier batch failed (${this.failed}); refusing batches until recovery`);
      try {
        this.epoch = await this.tx((c) => writeBatch(c, batch));
      } catch (err) {
        this.failed = (err as Error).message;
        throw err;
      }
    });
  }

  recover(): Promise<void> {
    return this.serial(async () => {
      this.failed = undefined;
    });
  }

  begin(): Promise<TurnStart> {
    return this.serial(async () => {
      if (this.turnClient === 'lost') this.turnClient = null;
      if (this.turnClient !== null) throw new Error('a write turn is open already');
      const c = await this.checkout();
      let now: Epoch;
      try {
        await c.query('SELECT pg_advisory_lock($1, $2)', [...LOCKS.writer]);
        // A statement of its own: its snapshot is taken once the lock is held.
        now = (await c.query<Epoch>('SELECT n, registry FROM write_epoch')).rows[0]!;
      } catch (err) {
        c.release(err as Error);
        throw err;
      }
      this.turnClient = c;
      const start = { moved: now.n !== this.epoch.n, registries: now.registry !== this.epoch.registry };
      this.epoch = now;
      return start;
    });
  }

  end(): Promise<void> {
    return this.serial(async () => {
      const c = this.turnClient;
      this.turnClient = null;
      if (c === null || c === 'lost') return;
      await c.query('SELECT pg_advisory_unlock($1, $2)', [...LOCKS.writer]).then(
        () => c.release(),
        (err: Error) => c.release(err),
      );
    });
  }

  /** Waits for every queued write, ending a turn left open. */
  async close(): Promise<void> {
    await this.end().catch(() => undefined);
    this.closed = true;
    await this.tail;
  }
}
