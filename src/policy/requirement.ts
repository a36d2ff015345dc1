/**
 * What a `permit` asks for before its command may run (DESIGN §5), read from its annotations:
 *
 *   @approval("quorum=2 roles=publisher,admin ttl=7200 self=false")
 *   @airlock("floor=120 ceiling=7200")
 *
 * A permit with neither annotation allows outright. See docs/policy.md.
 */
export interface ApprovalRequirement {
  /** Distinct approvers needed (≥ 1). */
  readonly quorum: number;
  /** Roles an approver must hold one of; empty = any role. */
  readonly roles: readonly string[];
  /** Seconds the command may wait for its approvals before it expires. */
  readonly ttlSeconds: number;
  /** Whether the requester's own approval counts. */
  readonly allowSelf: boolean;
  /** TOTP airlock review window, or null when the permit has no `@airlock`. */
  readonly airlock: { readonly floorSeconds: number; readonly ceilingSeconds: number } | null;
  /** The permit it came from, `<source>#<n>` (file and policy index), for explanations. */
  readonly policy: string;
}

/** What `Policy.authorize` answers. */
export interface Decision {
  readonly allowed: boolean;
  /** The policies that decided, as `<source>#<n>`: the matching permits, or the forbids that denied. */
  readonly reasons: readonly string[];
  /** null: allowed outright (auto), or denied. */
  readonly requirement: ApprovalRequirement | null;
}

export const DEFAULT_QUORUM = 1;
export const DEFAULT_TTL_SECONDS = 7200;
export const DEFAULT_ALLOW_SELF = false;
export const DEFAULT_AIRLOCK_FLOOR_SECONDS = 120;
export const DEFAULT_AIRLOCK_CEILING_SECONDS = 7200;
/** A TOTP code lives up to ~90 s (its 30 s window ±1), so a review floor must be longer than that. */
export const MIN_AIRLOCK_FLOOR_SECONDS = 91;
const MAX_QUORUM = 100;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 30 * 86400;
const MAX_AIRLOCK_CEILING_SECONDS = 7 * 86400;
/** The role names AssignRole accepts (src/packs/access/actions.yaml). */
const ROLE = /^[a-z][a-z0-9-]{0,63}$/;

export const APPROVAL_ANNOTATION = 'approval';
export const AIRLOCK_ANNOTATION = 'airlock';

/** Splits `key=value key=value` into a map, refusing unknown, repeated and malformed entries. */
function pairs(annotation: string, value: string, known: readonly string[], problems: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const token of value.split(/\s+/).filter((t) => t !== '')) {
    const eq = token.indexOf('=');
    if (eq <= 0 || eq === token.length - 1) {
      problems.push(`@${annotation}: "${token}" is not key=value`);
      continue;
    }
    const key = token.slice(0, eq);
    if (!known.includes(key)) problems.push(`@${annotation}: unknown key "${key}" (known: ${known.join(', ')})`);
    else if (out.has(key)) problems.push(`@${annotation}: "${key}" is given twice`);
    else out.set(key, token.slice(eq + 1));
  }
  return out;
}

function integer(annotation: string, key: string, raw: string | undefined, fallback: number, min: number, max: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`@${annotation}: ${key} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

/**
 * The requirement of one permit's annotations; null when it has neither `@approval` nor `@airlock`.
 * Problems are appended to `problems` (one message each, without a location) and defaults used.
 */
export function requirementOf(annotations: Readonly<Record<string, string>>, policy: string, problems: string[]): ApprovalRequirement | null {
  const approval = annotations[APPROVAL_ANNOTATION];
  const airlock = annotations[AIRLOCK_ANNOTATION];
  if (approval === undefined && airlock === undefined) return null;

  const a = pairs(APPROVAL_ANNOTATION, approval ?? '', ['quorum', 'roles', 'ttl', 'self'], problems);
  const quorum = integer(APPROVAL_ANNOTATION, 'quorum', a.get('quorum'), DEFAULT_QUORUM, 1, MAX_QUORUM, problems);
  const ttlSeconds = integer(APPROVAL_ANNOTATION, 'ttl', a.get('ttl'), DEFAULT_TTL_SECONDS, MIN_TTL_SECONDS, MAX_TTL_SECONDS, problems);
  let allowSelf = DEFAULT_ALLOW_SELF;
  const self = a.get('self');
  if (self !== undefined) {
    if (self === 'true' || self === 'false') allowSelf = self === 'true';
    else problems.push(`@approval: self must be true or false, got "${self}"`);
  }
  const roles: string[] = [];
  for (const role of a.get('roles')?.split(',') ?? []) {
    if (!ROLE.test(role)) problems.push(`@approval: "${role}" is not a role name (${ROLE.source}); leave roles out to accept any role`);
    else if (!roles.includes(role)) roles.push(role);
  }

  let lock: ApprovalRequirement['airlock'] = null;
  if (airlock !== undefined) {
    const l = pairs(AIRLOCK_ANNOTATION, airlock, ['floor', 'ceiling'], problems);
    const floorSeconds = integer(AIRLOCK_ANNOTATION, 'floor', l.get('floor'), DEFAULT_AIRLOCK_FLOOR_SECONDS, MIN_AIRLOCK_FLOOR_SECONDS, MAX_AIRLOCK_CEILING_SECONDS, problems);
    const ceilingSeconds = integer(AIRLOCK_ANNOTATION, 'ceiling', l.get('ceiling'), DEFAULT_AIRLOCK_CEILING_SECONDS, 1, MAX_AIRLOCK_CEILING_SECONDS, problems);
    if (floorSeconds >= ceilingSeconds) problems.push(`@airlock: floor (${floorSeconds}) must be less than ceiling (${ceilingSeconds})`);
    lock = Object.freeze({ floorSeconds, ceilingSeconds });
  }
  return Object.freeze({ quorum, roles: Object.freeze(roles), ttlSeconds, allowSelf, airlock: lock, policy });
}

/**
 * Orders requirements from least to most demanding (negative: `a` asks less than `b`):
 *   1. no airlock before an airlock;
 *   2. smaller quorum;
 *   3. any role before named roles, then more roles (more possible approvers) before fewer;
 *   4. self-approval allowed before not;
 *   5. a shorter airlock floor, then a longer ceiling;
 *   6. a longer TTL.
 * Ties keep load order (the caller's sort is stable), so the decision is deterministic.
 */
export function compareDemand(a: ApprovalRequirement, b: ApprovalRequirement): number {
  return (
    Number(a.airlock !== null) - Number(b.airlock !== null) ||
    a.quorum - b.quorum ||
    Number(a.roles.length > 0) - Number(b.roles.length > 0) ||
    b.roles.length - a.roles.length ||
    Number(b.allowSelf) - Number(a.allowSelf) ||
    (a.airlock?.floorSeconds ?? 0) - (b.airlock?.floorSeconds ?? 0) ||
    (b.airlock?.ceilingSeconds ?? 0) - (a.airlock?.ceilingSeconds ?? 0) ||
    b.ttlSeconds - a.ttlSeconds
  );
}

/** One line for messages: `2 approvals by admin (not the requester) within 7200 s`. */
export function describeRequirement(r: ApprovalRequirement): string {
  const who = r.roles.length ? `by ${r.roles.join(' or ')}` : 'by any role';
  const self = r.allowSelf ? '' : ' (not the requester)';
  const lock = r.airlock ? `, then the TOTP airlock (review ${r.airlock.floorSeconds}–${r.airlock.ceilingSeconds} s)` : '';
  return `${r.quorum} approval${r.quorum === 1 ? '' : 's'} ${who}${self} within ${r.ttlSeconds} s${lock}`;
}
