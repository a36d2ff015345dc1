import { logError } from './log.js';

/**
 * A job run every `intervalMs` in the background (the publish scheduler, the approval sweeper): a
 * run still going is never started again — `tick()` then answers that run — a failure is logged and
 * retried at the next interval, the timer does not keep the process alive, and `close()` waits for
 * the run in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  /** `failure` is the log message of a failed run (it should say that the next interval retries). */
  constructor(
    private readonly run: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly failure: string,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch((err) => logError(this.failure, err)), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Runs once now (or joins the run in progress); resolves to what the run counted. */
  tick(): Promise<number> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
