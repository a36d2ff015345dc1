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
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`a seal holds only safe integers, not ${String(value)}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${quote(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`a seal cannot hold a ${typeof value}`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** RFC 8785 §3.2.2.2: a string as JSON.stringify writes it; a lone surrogate has no UTF-8 form. */
function quote(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError('a seal holds no lone surrogates');
  return JSON.stringify(s);
}
