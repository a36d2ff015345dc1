import type { Catalog } from '../../catalog/catalog.js';
import type { ActionDef } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import type { Envelope } from '../../core/envelope.js';

/**
 * What an erased value becomes, wherever writ holds it: in a redacted command's body, in the
 * entity versions it wrote and in those that carried its values forward. A plain string, so that a
 * JSON Merge Patch (RFC 7396) replaces it as it replaced the value (an object marker would be merged
 * into). It carries no function of the value: an unsalted hash would confirm a guess of a
 * low-entropy value (an email from a list), a salted one would keep pseudonymous data that the
 * salt's holder could confirm. The ledger already commits to the whole command (its commandHash),
 * salted by the envelope's nonce, which is erased with the rest.
 */
export const ERASED = '[redacted]';

/**
 * The payload fields a redacted body keeps: those naming its target and its beneficiary (its ledger
 * record and approval name them anyway), and the state fields that transitions of its entity type
 * read (`status: draft`: a later transition's replay must find the state it checked).
 */
export function keptFields(catalog: Catalog, action: ActionDef): ReadonlySet<string> {
  const fields = [...`${action.id} ${action.beneficiary ?? ''}`.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
  for (const a of catalog.actions()) if (a.entity === action.entity && a.effect.kind === 'transition') fields.push(a.effect.field);
  return new Set(fields);
}

/** Every string, number and boolean inside `value` replaced by ERASED; nulls (a merge's deletions), member names and array lengths stay. */
export function eraseValue(value: unknown): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map(eraseValue);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, eraseValue(v)]));
  return ERASED;
}

/**
 * The body writ keeps of a redacted command, in place of its envelope: the envelope with its nonce
 * and every payload value erased, except the fields naming the target and beneficiary. The ledger
 * replay runs it as the command (src/state/replay.ts), so the entity versions it recomputes carry
 * ERASED exactly where the command's values were, and everything else is still compared exactly.
 * The signature stays: without the nonce and the payload it confirms no guess.
 */
export function redactedBody(env: Envelope, kept: ReadonlySet<string>): Envelope {
  const payload = Object.fromEntries(Object.entries(env.payload).map(([k, v]) => [k, kept.has(k) ? v : eraseValue(v)]));
  return { ...env, nonce: ERASED, payload };
}

/** Whether `env` is a redacted body (with `kept` from keptFields): nothing is left to erase in it. */
export function isRedactedBody(env: Envelope, kept: ReadonlySet<string>): boolean {
  return env.nonce === ERASED && jcs(redactedBody(env, kept)) === jcs(env);
}

/** Whether an action's effect is declarative, so that a redacted body of it can be replayed (a code handler may compute with the values). */
export function replayableRedacted(action: ActionDef): boolean {
  return action.effect.kind !== 'handler';
}

/**
 * A version written by a pack's code handler after an erased one, with the erasure carried: where
 * `before` held a value that `erased` has erased, and `next` holds the same value at that place,
 * `next` gets ERASED there (the handler carried it forward). Declarative effects are recomputed
 * instead (src/pipeline/apply/erasure.ts).
 */
export function carryErasure(before: unknown, erased: unknown, next: unknown): unknown {
  if (erased === ERASED && before !== ERASED) return jcs(next ?? null) === jcs(before ?? null) ? ERASED : next;
  if (!isContainer(before) || !isContainer(erased) || !isContainer(next) || Array.isArray(before) !== Array.isArray(next)) return next;
  const b = before as Record<string, unknown>;
  const e = erased as Record<string, unknown>;
  const out: Record<string, unknown> | unknown[] = Array.isArray(next) ? [...next] : { ...(next as Record<string, unknown>) };
  for (const key of Object.keys(next as object)) {
    if (Object.hasOwn(e, key) && Object.hasOwn(b, key)) (out as Record<string, unknown>)[key] = carryErasure(b[key], e[key], (next as Record<string, unknown>)[key]);
  }
  return out;
}

function isContainer(v: unknown): boolean {
  return v !== null && typeof v === 'object';
}
