import type { AirlockPurpose, ConsumedWindow, ConsumedWindowsReader } from '../../approvals/consumed-windows.js';
import type { ApprovalDoc } from '../../approvals/pending.js';
import { TOTP_SKEW_WINDOWS, windowAt } from '../../approvals/totp.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';

type Writes = EffectPlan['writes'];

/**
 * The state the airlock keeps beside the approvals:
 *
 * - `airlock-staged/<first 8 hex of the commandHash>`, per tenant: the staged commands whose hash
 *   starts so. writ.Land names a command by a prefix of 8 or more hex digits, so this one entity
 *   holds every staged command the prefix could mean: landing is one read, never a search.
 * - `airlock-windows/spent`, ONE for the deployment (src/state/scope.ts): the TOTP windows spent per
 *   purpose. One secret serves every tenant, so a window spent in one tenant is spent in all. It is
 *   read and written in the plan of the command that spends, so the check and the spending are one
 *   step of the serialised apply, durable in the same transaction as the staging or landing; it
 *   keeps only windows a code could still be presented for (the current window ±1).
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
  const row = await ctx.getDeployment(WINDOWS_TYPE, WINDOWS_ID);
  return row && !row.deleted ? (row.doc as SpentDoc) : { stage: [], land: [] };
}

/** The windows spent so far, in any tenant. */
export async function spentWindows(ctx: EffectContext): Promise<ConsumedWindowsReader> {
  const doc = await spentDoc(ctx);
  return { has: (purpose, window) => doc[purpose].includes(window) };
}

/** Spends the windows of an airlock decision: the deployment's record, written with the plan. */
export async function spend(ctx: EffectContext, windows: readonly ConsumedWindow[]): Promise<Writes> {
  const doc = await spentDoc(ctx);
  // A window older than the current one minus the skew can no longer be presented: forget it.
  const oldest = windowAt(Date.parse(ctx.now)) - TOTP_SKEW_WINDOWS - 1;
  const next = { stage: doc.stage.filter((w) => w >= oldest), land: doc.land.filter((w) => w >= oldest) };
  for (const w of windows) next[w.purpose].push(w.window);
  return [{ type: WINDOWS_TYPE, id: WINDOWS_ID, doc: next, scope: 'deployment' }];
}
