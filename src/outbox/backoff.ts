/**
 * Delay before the next attempt of an event that failed `failures` times: base · 2^(failures-1),
 * capped, then spread by ±25 % jitter so that many events failing together do not retry in step.
 */
export function backoffMs(failures: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
  return Math.max(0, Math.round(exp * (0.75 + 0.5 * random())));
}
