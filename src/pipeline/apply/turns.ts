import type { TurnStart, WriteTurn } from '../../store/shared.js';

/**
 * Longest a process keeps the write turn of a shared store while it has work: past it, it lets the
 * batches in flight settle and queues for the turn again, behind the processes that waited.
 */
export const TURN_MS = 25;

/**
 * The applier's side of a shared store's write turn (src/store/shared.ts): taken before a batch is
 * planned, kept while batches follow one another (planning goes on while the last one commits), and
 * given up, once they have settled, when the queue is empty or TURN_MS passed. A turn that finds
 * that other processes wrote first brings the applier's caches up to date (`resync`).
 */
export class TurnKeeper {
  private since: number | null = null;

  constructor(
    private readonly turn: WriteTurn,
    private readonly resync: (start: TurnStart) => Promise<void>,
    private readonly settled: () => Promise<void>,
  ) {}

  /** Before planning a batch; rejects when the store cannot be reached (the batch is refused). */
  async take(): Promise<void> {
    if (this.since !== null) return;
    const start = await this.turn.begin();
    this.since = performance.now();
    if (start.moved) await this.resync(start);
  }

  /** After a batch was handed to the store (`idle`: nothing is queued), and after a failure. */
  async yield(idle: boolean): Promise<void> {
    if (this.since === null || (!idle && performance.now() - this.since < TURN_MS)) return;
    await this.settled();
    this.since = null;
    await this.turn.end();
  }
}
