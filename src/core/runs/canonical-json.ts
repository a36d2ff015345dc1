/**
 * RFC 8785 (JCS) for the JSON a run's seal is made of: objects, arrays, strings, booleans, null and
 * safe integers. For these values RFC 8785 is ECMAScript's JSON.stringify with every object's
 * members sorted by UTF-16 code units (RFC 8785 §3.2.3), which is what this does; it refuses
 * anything else (fractions, non-finite numbers, undefined), whose RFC 8785 form needs the number
 * serialisation this file does not implement. It lives in src/core/ so that `writ run verify` and
 * an outside verifier recompute a seal root with nothing but core code; a test compares it with
 * the `canonicalize` library the server uses for resultHash.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`a seal holds only safe integers, not ${String(value)}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`a seal cannot hold a ${typeof value}`);
}
