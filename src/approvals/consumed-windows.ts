/**
 * The record of TOTP windows already spent. A window is consumed at most once per purpose, so the
 * code that staged a command can never stage another in the same window, and likewise for landing.
 * Windows are global to a secret: every command verified against the same secret MUST share one
 * record, whatever its tenant or approval. In writ that record is one deployment-wide entity
 * (src/packs/writ/airlock-index.ts).
 */

/** What a code is used for; a window spent for one purpose is still free for the other. */
export type AirlockPurpose = 'stage' | 'land';

export interface ConsumedWindow {
  readonly purpose: AirlockPurpose;
  /** RFC 6238 time counter, floor(unixSeconds / 30). */
  readonly window: number;
}

/** Read side: the airlock state machine only asks; it never writes. */
export interface ConsumedWindowsReader {
  /** True when `window` was already consumed for `purpose`. */
  has(purpose: AirlockPurpose, window: number): boolean | Promise<boolean>;
}

/**
 * Write side, for the caller that applies an airlock decision. `add` MUST be made durable in the
 * same transaction as the state the decision returns, and the `has` that preceded it MUST be read
 * inside that transaction, or two concurrent commands could both spend one window.
 */
export interface ConsumedWindows extends ConsumedWindowsReader {
  add(purpose: AirlockPurpose, window: number): void | Promise<void>;
}

/** An in-memory record, for tests of the airlock's rules. Nothing survives a restart. */
export class MemoryConsumedWindows implements ConsumedWindows {
  readonly #spent = new Set<string>();

  has(purpose: AirlockPurpose, window: number): boolean {
    return this.#spent.has(`${purpose}:${window}`);
  }

  add(purpose: AirlockPurpose, window: number): void {
    this.#spent.add(`${purpose}:${window}`);
  }

  /** Adds every window of a decision's `consume` list. */
  addAll(windows: readonly ConsumedWindow[]): void {
    for (const w of windows) this.add(w.purpose, w.window);
  }
}
