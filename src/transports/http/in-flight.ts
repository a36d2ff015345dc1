import { BUSY_RETRY_AFTER_SECONDS } from '../../config/config.js';
import { WritError } from '../../core/errors.js';
import type { InFlight } from '../../metrics/transport-families.js';

/**
 * The bound on commands in flight over HTTP (server.maxInFlight), as the NATS intake bounds its own
 * with maxInFlight: a command past it is refused before the pipeline sees it, so nothing is parsed,
 * claimed or recorded for it, and every queue behind the intake (verification, the applier) stays
 * bounded too. Without it a burst grows the applier's queue, and every caller's wait, without limit.
 */
export class InFlightGate implements InFlight {
  inFlight = 0;

  constructor(readonly limit: number) {}

  /** Whether every place is taken: a request may be refused before its body is even read. */
  get full(): boolean {
    return this.inFlight >= this.limit;
  }

  /** The refusal of a command that found every place taken. */
  busy(): WritError {
    return new WritError('UNAVAILABLE', `writ has ${this.limit} commands in flight over HTTP (server.maxInFlight) and refused this one before looking at it; nothing was recorded: send it again, unchanged, after ${BUSY_RETRY_AFTER_SECONDS} s`, { retryAfter: BUSY_RETRY_AFTER_SECONDS });
  }

  /** Takes a place, or throws UNAVAILABLE (503, Retry-After) when all are taken; a taken place MUST be left. */
  enter(): void {
    if (this.full) throw this.busy();
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
  }
}
