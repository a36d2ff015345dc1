import { WritError } from '../core/errors.js';
import type { AirlockPurpose, ConsumedWindow, ConsumedWindowsReader } from './consumed-windows.js';
import { matchWindow, TOTP_PERIOD_SECONDS, TOTP_SKEW_WINDOWS, windowAt, windowStartMs, type TotpSecretInput } from './totp.js';

/**
 * The airlock (DESIGN §5): two TOTP codes around a review period, for commands whose policy asks
 * for it.
 *
 *   open --stage(code 1)--> staged --land(hashPrefix, code 2) after the floor--> landed
 *    ^                        |
 *    +-- revert (free) -------+   and past the ceiling it reverts itself
 *
 * - The review floor (default 120 s) is at least a code's whole life (90 s: its window and one on
 *   each side), so no code seen at staging can still be valid when landing becomes legal.
 * - The landing code's window must be strictly later than the staging code's, and each window is
 *   spent once per purpose: defence in depth against replay should the floor be misconfigured.
 * - Landing names the staged command by a prefix of its commandHash, so what lands is what was
 *   staged; the prefix and the floor are checked before the code, so a miss spends no window.
 * - Revert needs no code: declining must never cost more than approving.
 *
 * This module is pure: it reads the clock value, the secret and the consumed windows it is given
 * and returns a decision; the caller records it (new state, windows to consume, ledger record).
 * A decision never contains a code or the secret; windows may be logged.
 */

export const DEFAULT_REVIEW_FLOOR_SECONDS = 120;
export const DEFAULT_REVIEW_CEILING_SECONDS = 7200;
/** The longest a code is accepted: its own window and TOTP_SKEW_WINDOWS on each side (90 s). */
export const MIN_REVIEW_FLOOR_SECONDS = (2 * TOTP_SKEW_WINDOWS + 1) * TOTP_PERIOD_SECONDS;
/** Shortest hash prefix `land` accepts (hex digits). */
export const MIN_HASH_PREFIX = 8;

export interface AirlockRules {
  /** Seconds after staging before landing is allowed. */
  readonly floorSeconds: number;
  /** Seconds after staging past which a staged command reverts itself. */
  readonly ceilingSeconds: number;
}

export const DEFAULT_AIRLOCK_RULES: AirlockRules = Object.freeze({ floorSeconds: DEFAULT_REVIEW_FLOOR_SECONDS, ceilingSeconds: DEFAULT_REVIEW_CEILING_SECONDS });

/**
 * Validated rules, e.g. from an `@airlock("floor=120 ceiling=7200")` annotation: whole seconds,
 * floor at least MIN_REVIEW_FLOOR_SECONDS, ceiling above the floor. The state machine itself takes
 * any rules (tests use a floor of 0 to reach the window-order check).
 * @throws RangeError naming the bad value
 */
export function airlockRules(input: { readonly floorSeconds?: number; readonly ceilingSeconds?: number } = {}): AirlockRules {
  const floorSeconds = input.floorSeconds ?? DEFAULT_REVIEW_FLOOR_SECONDS;
  const ceilingSeconds = input.ceilingSeconds ?? DEFAULT_REVIEW_CEILING_SECONDS;
  if (!Number.isSafeInteger(floorSeconds) || floorSeconds < MIN_REVIEW_FLOOR_SECONDS) {
    throw new RangeError(`airlock floor must be a whole number of seconds of at least ${MIN_REVIEW_FLOOR_SECONDS} (a code's whole life), got ${floorSeconds}`);
  }
  if (!Number.isSafeInteger(ceilingSeconds) || ceilingSeconds <= floorSeconds) {
    throw new RangeError(`airlock ceiling must be a whole number of seconds above the floor (${floorSeconds}), got ${ceilingSeconds}`);
  }
  return Object.freeze({ floorSeconds, ceilingSeconds });
}

/** Where a command stands in the airlock. Times are milliseconds since the epoch (server clock). */
export type AirlockState = OpenState | StagedState | LandedState;

/** Not staged: never, or reverted (by hand or at the ceiling). */
export interface OpenState {
  readonly status: 'open';
}

/** Frozen and under review. The deadlines are fixed at staging, whatever the rules become later. */
export interface StagedState {
  readonly status: 'staged';
  readonly stagedAtMs: number;
  readonly stageWindow: number;
  /** Earliest moment landing is allowed (staging + floor). */
  readonly landableAtMs: number;
  /** Past this moment the command reverts itself (staging + ceiling). */
  readonly expiresAtMs: number;
}

/** Landed: terminal. The caller executes the command. */
export interface LandedState {
  readonly status: 'landed';
  readonly stagedAtMs: number;
  readonly stageWindow: number;
  readonly landedAtMs: number;
  readonly landWindow: number;
}

export const OPEN: OpenState = Object.freeze({ status: 'open' });

/** A pending command as the airlock sees it. */
export interface AirlockSubject {
  readonly approvalId: string;
  /** The commandHash of the pending command: 64 lowercase hex digits. */
  readonly commandHash: string;
  readonly airlock: AirlockState;
}

/** What happened, for the ledger record and the log: windows, never codes. */
export type AirlockEvent =
  | { readonly kind: 'staged'; readonly approvalId: string; readonly commandHash: string; readonly window: number; readonly stagedAtMs: number; readonly landableAtMs: number; readonly expiresAtMs: number }
  | { readonly kind: 'landed'; readonly approvalId: string; readonly commandHash: string; readonly window: number; readonly stageWindow: number; readonly landedAtMs: number }
  | RevertedEvent;

export interface RevertedEvent {
  readonly kind: 'reverted';
  readonly approvalId: string;
  readonly commandHash: string;
  /** `manual`: writ.Revert; `ceiling`: the staged command outlived its ceiling. */
  readonly reason: 'manual' | 'ceiling';
  readonly stagedAtMs: number;
  readonly expiresAtMs: number;
  /** When the revert was decided (for `ceiling`, when it was observed, at or after expiresAtMs). */
  readonly atMs: number;
}

/**
 * A decision. On success the caller MUST, in one transaction: store `state` for `approvalId`, add
 * every window of `consume` to the consumed windows, and record `event` (and `expired` first, if
 * present). On failure it records `expired` if present, and answers with `error`.
 */
export type AirlockDecision =
  | {
      readonly ok: true;
      readonly approvalId: string;
      readonly state: AirlockState;
      readonly event: AirlockEvent;
      readonly consume: readonly ConsumedWindow[];
      /** A ceiling revert observed on the way (stage of a command whose earlier staging expired). */
      readonly expired?: RevertedEvent;
    }
  | { readonly ok: false; readonly error: WritError; readonly expired?: RevertedEvent };

export interface AirlockContext {
  /** The deployment's TOTP secret (see totp-secret.ts). */
  readonly secret: TotpSecretInput;
  /** Windows already spent, read inside the caller's transaction. */
  readonly consumed: ConsumedWindowsReader;
  /** Rules for a new staging; default 120 s / 7200 s. Landing uses the deadlines fixed at staging. */
  readonly rules?: AirlockRules;
}

const HASH = /^[0-9a-f]{64}$/;
const iso = (ms: number) => new Date(ms).toISOString();
const fail = (error: WritError, expired?: RevertedEvent): AirlockDecision => (expired ? { ok: false, error, expired } : { ok: false, error });
const nextCodeIn = (nowMs: number) => Math.ceil((windowStartMs(windowAt(nowMs) + 1) - nowMs) / 1000);

/**
 * The ceiling revert due for `subject` at `nowMs`, or null: a staged command reverts itself once
 * `nowMs` is past `expiresAtMs`. Call it when reading a subject (lazy) and from a sweeper; the
 * caller records the event and sets the state to OPEN.
 */
export function expired(subject: AirlockSubject, nowMs: number): RevertedEvent | null {
  const s = subject.airlock;
  if (s.status !== 'staged' || nowMs <= s.expiresAtMs) return null;
  return revertedEvent(subject, s, 'ceiling', nowMs);
}

/** Every ceiling revert due among `subjects` at `nowMs` (for the sweeper). */
export function sweep(subjects: Iterable<AirlockSubject>, nowMs: number): RevertedEvent[] {
  const out: RevertedEvent[] = [];
  for (const subject of subjects) {
    const due = expired(subject, nowMs);
    if (due) out.push(due);
  }
  return out;
}

function revertedEvent(subject: AirlockSubject, s: StagedState, reason: RevertedEvent['reason'], atMs: number): RevertedEvent {
  return { kind: 'reverted', approvalId: subject.approvalId, commandHash: subject.commandHash, reason, stagedAtMs: s.stagedAtMs, expiresAtMs: s.expiresAtMs, atMs };
}

/**
 * writ.Stage {approvalId, code}: freezes the command and starts the review clock.
 * Checks, in order: the approval exists (NOT_FOUND); it is open, or staged past its ceiling, which
 * counts as reverted (INVALID_STATE); the code matches the current window ±1 (TOTP_INVALID); that
 * window was not used to stage before (TOTP_REPLAY).
 * @param subject the pending command, or undefined if `approvalId` names none
 * @throws TypeError if `subject.commandHash` is not 64 lowercase hex digits (a caller's bug)
 */
export async function stage(subject: AirlockSubject | undefined, code: string, nowMs: number, ctx: AirlockContext): Promise<AirlockDecision> {
  if (!subject) return fail(new WritError('NOT_FOUND', 'no pending command has this approval id'));
  if (!HASH.test(subject.commandHash)) throw new TypeError(`commandHash of ${subject.approvalId} is not 64 lowercase hex digits`);
  const lapsed = expired(subject, nowMs) ?? undefined;
  const s = subject.airlock;
  if (s.status === 'landed') return fail(new WritError('INVALID_STATE', `${subject.approvalId} has landed already`, { details: { approvalId: subject.approvalId, status: s.status } }));
  if (s.status === 'staged' && !lapsed) {
    return fail(new WritError('INVALID_STATE', `${subject.approvalId} is staged already (since ${iso(s.stagedAtMs)}); land it after ${iso(s.landableAtMs)} or revert it`, { details: { approvalId: subject.approvalId, status: s.status } }));
  }
  const window = matchWindow(ctx.secret, code, nowMs);
  if (window === null) return fail(invalidCode('stage', nowMs), lapsed);
  if (await ctx.consumed.has('stage', window)) return fail(replayed('stage', window, nowMs), lapsed);

  const rules = ctx.rules ?? DEFAULT_AIRLOCK_RULES;
  const state: StagedState = { status: 'staged', stagedAtMs: nowMs, stageWindow: window, landableAtMs: nowMs + rules.floorSeconds * 1000, expiresAtMs: nowMs + rules.ceilingSeconds * 1000 };
  const event: AirlockEvent = { kind: 'staged', approvalId: subject.approvalId, commandHash: subject.commandHash, window, stagedAtMs: nowMs, landableAtMs: state.landableAtMs, expiresAtMs: state.expiresAtMs };
  const decision = { ok: true, approvalId: subject.approvalId, state, event, consume: [{ purpose: 'stage', window }] } as const;
  return lapsed ? { ...decision, expired: lapsed } : decision;
}

/**
 * writ.Land {hashPrefix, code}: lands the one staged command whose commandHash starts with
 * `hashPrefix`. Checks, in order, and nothing is spent unless all pass:
 *  1. the prefix is 8 to 64 hex digits (INVALID_PAYLOAD), matches a staged command (NOT_FOUND, or
 *     INVALID_STATE if it matches only commands that are not staged) and only one (INVALID_PAYLOAD);
 *  2. the review floor has passed (REVIEW_FLOOR_NOT_MET, with retryAfter);
 *  3. the ceiling has not (APPROVAL_EXPIRED, with the revert to record in `expired`);
 *  4. the code matches the current window ±1 (TOTP_INVALID);
 *  5. its window is strictly later than the staging window (TOTP_REPLAY);
 *  6. that window was not used to land before (TOTP_REPLAY).
 * @param candidates the staged commands whose commandHash starts with the prefix, or more (others
 *   are ignored); the caller MUST include every such staged command, or ambiguity goes unseen
 */
export async function land(candidates: Iterable<AirlockSubject>, hashPrefix: string, code: string, nowMs: number, ctx: AirlockContext): Promise<AirlockDecision> {
  if (typeof hashPrefix !== 'string' || !/^[0-9a-fA-F]{8,64}$/.test(hashPrefix)) {
    return fail(new WritError('INVALID_PAYLOAD', `hashPrefix must be ${MIN_HASH_PREFIX} to 64 hex digits of the staged command's hash`, { details: { field: 'hashPrefix' } }));
  }
  const prefix = hashPrefix.toLowerCase();
  const matching = [...candidates].filter((c) => c.commandHash.startsWith(prefix));
  const staged = matching.filter((c) => c.airlock.status === 'staged');
  if (staged.length === 0) {
    if (matching.length > 0) {
      return fail(new WritError('INVALID_STATE', `the command ${prefix} is not staged (${matching.map((m) => `${m.approvalId} is ${m.airlock.status}`).join(', ')}); stage it first`, { details: { hashPrefix: prefix } }));
    }
    return fail(new WritError('NOT_FOUND', `no staged command's hash starts with ${prefix}`, { details: { hashPrefix: prefix } }));
  }
  if (staged.length > 1) {
    return fail(new WritError('INVALID_PAYLOAD', `hashPrefix ${prefix} matches ${staged.length} staged commands; give more hex digits of the hash`, { details: { field: 'hashPrefix', matches: staged.length } }));
  }
  const subject = staged[0];
  const s = subject.airlock as StagedState;
  if (nowMs < s.landableAtMs) {
    const wait = Math.ceil((s.landableAtMs - nowMs) / 1000);
    return fail(new WritError('REVIEW_FLOOR_NOT_MET', `${subject.approvalId} was staged ${Math.floor((nowMs - s.stagedAtMs) / 1000)} s ago; it may land from ${iso(s.landableAtMs)} (in ${wait} s): review it, then land it with a fresh code`, { retryAfter: wait, details: { approvalId: subject.approvalId, landableAt: iso(s.landableAtMs) } }));
  }
  const lapsed = expired(subject, nowMs);
  if (lapsed) {
    return fail(new WritError('APPROVAL_EXPIRED', `${subject.approvalId} stayed staged past its ceiling (${iso(s.expiresAtMs)}) and has reverted itself; stage it again to land it`, { details: { approvalId: subject.approvalId, expiredAt: iso(s.expiresAtMs) } }), lapsed);
  }
  const window = matchWindow(ctx.secret, code, nowMs);
  if (window === null) return fail(invalidCode('land', nowMs));
  if (window <= s.stageWindow) {
    return fail(new WritError('TOTP_REPLAY', `the code is from window ${window}, not later than the staging code's window ${s.stageWindow}; wait for the next code (in ${nextCodeIn(nowMs)} s)`, { details: { purpose: 'land', window, stageWindow: s.stageWindow } }));
  }
  if (await ctx.consumed.has('land', window)) return fail(replayed('land', window, nowMs));

  const state: LandedState = { status: 'landed', stagedAtMs: s.stagedAtMs, stageWindow: s.stageWindow, landedAtMs: nowMs, landWindow: window };
  const event: AirlockEvent = { kind: 'landed', approvalId: subject.approvalId, commandHash: subject.commandHash, window, stageWindow: s.stageWindow, landedAtMs: nowMs };
  return { ok: true, approvalId: subject.approvalId, state, event, consume: [{ purpose: 'land', window }] };
}

/**
 * writ.Revert {approvalId}: unfreezes a staged command; no code, nothing spent. A command staged
 * past its ceiling has reverted itself already: the decision succeeds with reason `ceiling`.
 * Refused with NOT_FOUND for no subject and INVALID_STATE unless staged.
 */
export function revert(subject: AirlockSubject | undefined, nowMs: number): AirlockDecision {
  if (!subject) return fail(new WritError('NOT_FOUND', 'no pending command has this approval id'));
  const s = subject.airlock;
  if (s.status !== 'staged') {
    return fail(new WritError('INVALID_STATE', `${subject.approvalId} is not staged (it is ${s.status}); only a staged command can be reverted`, { details: { approvalId: subject.approvalId, status: s.status } }));
  }
  const event = expired(subject, nowMs) ?? revertedEvent(subject, s, 'manual', nowMs);
  return { ok: true, approvalId: subject.approvalId, state: OPEN, event, consume: [] };
}

/** Staged and landed commands are frozen: nothing about them may change but the airlock's state. */
export function isFrozen(state: AirlockState): boolean {
  return state.status !== 'open';
}

function invalidCode(purpose: AirlockPurpose, nowMs: number): WritError {
  const window = windowAt(nowMs);
  return new WritError('TOTP_INVALID', `the code is not valid for window ${window} or the one on either side (${TOTP_PERIOD_SECONDS} s each); use the current code, and if it keeps failing diagnose the clocks with \`writ totp check CODE\``, { details: { purpose, window } });
}

function replayed(purpose: AirlockPurpose, window: number, nowMs: number): WritError {
  return new WritError('TOTP_REPLAY', `a code from window ${window} was used to ${purpose} already; wait for the next code (in ${nextCodeIn(nowMs)} s)`, { details: { purpose, window } });
}
