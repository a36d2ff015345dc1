export const STAGES = ['intake', 'authenticate', 'freshness', 'idempotency', 'limits', 'validate', 'authorize', 'approval', 'apply'] as const;
export type StageName = (typeof STAGES)[number];

/**
 * Times the pipeline's stages by wrapping them (as Tessera's decorators wrap its add function), so
 * that no stage carries timing code of its own. A stage's wall time, failed or not, goes to
 * `observe` (the metrics' stage histograms) and, when `enabled`, is summed per stage into `ns` (the
 * benchmarks' per-stage breakdown). With neither, a stage runs unwrapped.
 */
export class StageClock {
  readonly ns: Record<StageName, number> = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<StageName, number>;
  /** Sum wall time per stage into `ns`; off unless a benchmark turns it on. */
  enabled = false;
  observe: ((stage: StageName, seconds: number) => void) | null = null;

  /** Runs `stage` and times it; a promise is timed until it settles, and is returned as it settles. */
  time<T>(stage: StageName, run: () => T): T {
    if (!this.enabled && !this.observe) return run();
    const start = performance.now();
    let out: T;
    try {
      out = run();
    } catch (err) {
      this.lap(stage, start);
      throw err;
    }
    if (!(out instanceof Promise)) {
      this.lap(stage, start);
      return out;
    }
    return out.then(
      (value: unknown) => {
        this.lap(stage, start);
        return value;
      },
      (err: unknown) => {
        this.lap(stage, start);
        throw err;
      },
    ) as T;
  }

  private lap(stage: StageName, start: number): void {
    // performance.now() is a double: no BigInt per reading on the hot path (µs resolution suffices).
    const ms = performance.now() - start;
    if (this.enabled) this.ns[stage] += ms * 1e6;
    this.observe?.(stage, ms / 1e3);
  }
}
