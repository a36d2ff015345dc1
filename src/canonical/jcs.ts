import canonicalizeImpl from 'canonicalize';

/**
 * RFC 8785 JSON Canonicalization Scheme. Kept outside src/core/ because src/core/ may import only
 * node: built-ins (docs/architecture.md); the input is always a value that passed the strict parser
 * or was built by writ itself, so it holds no undefined, functions or non-finite numbers.
 */
const canonicalize = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

export function jcs(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalized');
  return text;
}

export function jcsBytes(value: unknown): Buffer {
  return Buffer.from(jcs(value), 'utf8');
}
