import { jcs } from '../../canonical/jcs.js';
import { ERASED } from './erase.js';

/**
 * Whether `erased` is `stored` with ERASED markers in place: equal everywhere except where `erased`
 * holds the marker (there `stored` held the value). A code handler re-run on a redacted body
 * (src/pipeline/apply/erasure-rerun.ts) must compute exactly this: the same document, the erased
 * values aside. `erased` is computed from the redacted body and erased state only, so it cannot
 * hold the values; this check is what tells that it is still the version the command wrote.
 */
export function sameWithMarkers(erased: unknown, stored: unknown): boolean {
  if (erased === ERASED) return true;
  if (Array.isArray(erased)) return Array.isArray(stored) && stored.length === erased.length && erased.every((v, i) => sameWithMarkers(v, stored[i]));
  if (erased !== null && typeof erased === 'object') {
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
    const e = erased as Record<string, unknown>;
    const s = stored as Record<string, unknown>;
    const keys = Object.keys(e);
    return keys.length === Object.keys(s).length && keys.every((k) => Object.hasOwn(s, k) && sameWithMarkers(e[k], s[k]));
  }
  return jcs(erased ?? null) === jcs(stored ?? null);
}

/** The erased values of a payload: each string, number and boolean of its fields not kept (as canonical JSON). */
export function erasedValues(payload: Record<string, unknown>, kept: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (v === null) return;
    if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x);
    else out.add(jcs(v));
  };
  for (const [k, v] of Object.entries(payload)) if (!kept.has(k)) walk(v);
  return out;
}

/**
 * `value` with every string, number and boolean that is one of `values` replaced by ERASED: the
 * erasure of a version that cannot be recomputed (a handler that cannot run on a redacted body).
 * It erases the values wherever the handler put them, and also any equal value there by
 * coincidence (a `1`, an `"en"`): more than needed, never less than what is found.
 */
export function markValues(value: unknown, values: ReadonlySet<string>): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => markValues(v, values));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, markValues(v, values)]));
  return values.has(jcs(value)) ? ERASED : value;
}
