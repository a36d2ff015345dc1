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
 * The nonce of a redacted body whose command could not be re-run on it (a code handler that
 * computes with the erased values, or checks them): its entity versions were erased in place
 * (src/ledger/redaction/markers.ts markValues) and are taken as erased by `writ verify` and
 * `writ rebuild`, which say how many. What stays of a body is not covered by any hash, so this is
 * a statement of writ's, reported, never a silent pass.
 */
export const ERASED_NOT_REPLAYABLE = '[redacted; not replayable]';

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
export function redactedBody(env: Envelope, kept: ReadonlySet<string>, replayable = true): Envelope {
  const payload = Object.fromEntries(Object.entries(env.payload).map(([k, v]) => [k, kept.has(k) ? v : eraseValue(v)]));
  return { ...env, nonce: replayable ? ERASED : ERASED_NOT_REPLAYABLE, payload };
}

/** Whether `env` is a redacted body (with `kept` from keptFields): nothing is left to erase in it. */
export function isRedactedBody(env: Envelope, kept: ReadonlySet<string>): boolean {
  return (env.nonce === ERASED || env.nonce === ERASED_NOT_REPLAYABLE) && jcs(redactedBody(env, kept, env.nonce === ERASED)) === jcs(env);
}

/** Whether a redacted body is replayed (else its versions are taken as erased). */
export function replayedBody(env: Envelope): boolean {
  return env.nonce === ERASED;
}
