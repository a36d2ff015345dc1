import { logError } from '../util/log.js';
import { Periodic } from '../util/periodic.js';
import type { JobContext } from './pack-module.js';

/**
 * Runs `tick` every `intervalMs` until `ctx.signal` aborts, then resolves once the tick in progress
 * (if any) has ended: a background job's whole `run` when it works on a timer. A tick still running
 * is never started again; a failed tick is logged and the next interval tries again.
 */
export async function everyInterval(ctx: Pick<JobContext, 'signal'>, intervalMs: number, tick: () => Promise<unknown>, failure = 'a background job failed; retrying at the next interval'): Promise<void> {
  if (ctx.signal.aborted) return;
  const periodic = new Periodic(async () => {
    await tick();
    return 0;
  }, intervalMs, failure);
  periodic.start();
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  await periodic.close();
}

/** Logs a job's failure under its pack's name. */
export function logJobFailure(pack: string, job: string, err: unknown): void {
  logError(`background job ${pack}/${job} stopped with an error; it is not restarted until writ opens again`, err);
}
