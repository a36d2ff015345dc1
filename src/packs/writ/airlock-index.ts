import type { AirlockPurpose, ConsumedWindow, ConsumedWindowsReader, MemoryConsumedWindows } from '../../approvals/consumed-windows.js';
import type { ApprovalDoc } from '../../approvals/pending.js';
import { TOTP_SKEW_WINDOWS, windowAt } from '../../approvals/totp.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

type Writes = EffectPlan['writes'];

/**
 * The state the airlock keeps beside the approvals, per tenant:
 *
 * - `airlock-staged/<first 8 hex of the commandHash>`: the staged commands whose hash starts so.
 *   writ.Land names a command by a prefix of 8 or more hex digits, so this one entity holds every
 *   staged command the prefix could mean: landing is one read, never a search.
 * - `airlock-windows/spent`: the TOTP windows spent per purpose, kept while a code of theirs could
 *   still be presented (the current window ±1), read and written inside the apply transaction.
 *
 * Windows are also spent in a process-wide record (`spent`), since one secret serves every tenant
 * and a code seen in one must not open another.
 */
export const STAGED_TYPE = 'airlock-staged';
export const WINDOWS_TYPE = 'airlock-windows';
const WINDOWS_ID = 'spent';
export const MIN_PREFIX = 8;

interface StagedDoc {
  readonly staged: ReadonlyArray<{ readonly approvalId: string; readonly commandHash: string }>;
}

type SpentDoc = Readonly<Record<AirlockPurpose, readonly number[]>>;

async function stagedOf(ctx: EffectContext, key: string): Promise<StagedDoc['staged']> {
  const row = await ctx.get(STAGED_TYPE, key);
  return row && !row.deleted ? (row.doc as StagedDoc).staged : [];
}

/** The staged commands a hash prefix may name (those sharing its first 8 hex digits). */
export async function stagedCandidates(ctx: EffectContext, prefix: string): Promise<StagedDoc['staged']> {
  return prefix.length >= MIN_PREFIX ? stagedOf(ctx, prefix.slice(0, MIN_PREFIX)) : [];
}

/** Adds a command to the index of staged commands (a re-staging keeps its one entry). */
export async function addStaged(ctx: EffectContext, doc: ApprovalDoc): Promise<Writes> {
  const key = doc.commandHash.slice(0, MIN_PREFIX);
  const staged = (await stagedOf(ctx, key)).filter((s) => s.approvalId !== doc.id);
  return [{ type: STAGED_TYPE, id: key, doc: { staged: [...staged, { approvalId: doc.id, commandHash: doc.commandHash }] } }];
}

/** Takes a command out of the index of staged commands. */
export async function unstage(ctx: EffectContext, doc: ApprovalDoc): Promise<Writes> {
  const key = doc.commandHash.slice(0, MIN_PREFIX);
  const staged = (await stagedOf(ctx, key)).filter((s) => s.approvalId !== doc.id);
  return [staged.length ? { type: STAGED_TYPE, id: key, doc: { staged } } : { type: STAGED_TYPE, id: key, deleted: true }];
}

async function spentDoc(ctx: EffectContext): Promise<SpentDoc> {
  const row = await ctx.get(WINDOWS_TYPE, WINDOWS_ID);
  return row && !row.deleted ? (row.doc as SpentDoc) : { stage: [], land: [] };
}

/** The windows spent so far: in this tenant's state, or anywhere in this process. */
export async function spentWindows(ctx: EffectContext, spent: MemoryConsumedWindows): Promise<ConsumedWindowsReader> {
  const doc = await spentDoc(ctx);
  return { has: (purpose, window) => spent.has(purpose, window) || doc[purpose].includes(window) };
}

/** Spends the windows of an airlock decision: in the process at once, in state with the plan. */
export async function spend(ctx: EffectContext, windows: readonly ConsumedWindow[], spent: MemoryConsumedWindows): Promise<Writes> {
  const doc = await spentDoc(ctx);
  // A window older than the current one minus the skew can no longer be presented: forget it.
  const oldest = windowAt(Date.parse(ctx.now)) - TOTP_SKEW_WINDOWS - 1;
  const next = { stage: doc.stage.filter((w) => w >= oldest), land: doc.land.filter((w) => w >= oldest) };
  for (const w of windows) {
    next[w.purpose].push(w.window);
    spent.add(w.purpose, w.window);
  }
  return [{ type: WINDOWS_TYPE, id: WINDOWS_ID, doc: next }];
}
