/** One entry of GET /v1/actions: the catalog as the server publishes it. */
export interface CatalogAction {
  readonly name: string;
  readonly payload: Schema;
}

interface Schema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly required?: readonly string[];
  readonly properties?: Record<string, Schema>;
  readonly items?: Schema;
}

/** Strings tried in turn against a field's pattern and length: most of writ's ids take the first. */
const STRINGS = ['soak-1', 'tenant', 'EUR', 'nobody', 'admin', '/soak', 'commerce/0', 'nobody#1', 'a soak note'];

function stringFor(name: string, s: Schema, approval: { id: string; commandHash: string }): string {
  if (name === 'approvalId') return approval.id;
  if (name === 'commandHash') return approval.commandHash;
  if (s.format === 'date-time') return new Date(Date.now() + 3600_000).toISOString();
  const re = s.pattern ? new RegExp(s.pattern) : null;
  const fits = (v: string) => (!re || re.test(v)) && v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);
  return STRINGS.find(fits) ?? (/^\^\[0-9a-f\]\{64\}\$$/.test(s.pattern ?? '') ? '0'.repeat(64) : 'soak-1');
}

function valueFor(name: string, s: Schema, approval: { id: string; commandHash: string }, depth: number): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object':
      return depth > 4 ? {} : objectFor(s, approval, depth + 1);
    case 'array':
      return s.items ? [valueFor(name, s.items, approval, depth + 1)] : [];
    case 'integer':
    case 'number':
      return Math.max(s.minimum ?? 0, 1);
    case 'boolean':
      return true;
    default:
      return stringFor(name, s, approval);
  }
}

function objectFor(s: Schema, approval: { id: string; commandHash: string }, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of s.required ?? []) out[key] = valueFor(key, s.properties?.[key] ?? {}, approval, depth);
  return out;
}

/**
 * A payload that passes the action's JSON Schema as often as a cheap guess can (required fields
 * only, strings picked to fit their pattern), so that a role-less command reaches policy rather
 * than stopping at validation. Fields naming an approval name the held one.
 */
export function examplePayload(schema: Schema, approval: { id: string; commandHash: string }): Record<string, unknown> {
  return objectFor(schema, approval, 0);
}
