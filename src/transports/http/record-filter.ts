import { WritError } from '../../core/errors.js';
import { FIELD_MAX, PATTERNS } from '../../core/envelope.js';
import type { LedgerFilter } from '../../store/port.js';

/**
 * Most ledger rows one filtered request of GET /v1/ledger/{t}/{s}/records looks at, from `from`:
 * a filter that matches nothing costs at most this much work, whatever the length of the log. A page
 * that stopped here answers `next` = from + RECORD_SCAN_WINDOW (possibly with no records), and the
 * client reads on from there.
 */
export const RECORD_SCAN_WINDOW = 5000;

const OUTCOMES = new Set(['OK', 'REJECTED', 'PENDING']);
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
// RFC 3339 date-time (with `Z` or a numeric offset); 35 characters hold nine fraction digits and an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const TIME_MAX = 35;

const param = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: 'query', required: false, description, schema });

/** The filter's query parameters, as the OpenAPI document describes them (openapi.ts). */
export const RECORD_FILTER_PARAMS = [
  param('actor', 'only records of this actor', { type: 'string', maxLength: FIELD_MAX.actor }),
  param('action', 'only records of this action (exact name)', { type: 'string', maxLength: FIELD_MAX.action }),
  param('outcome', 'only records with this outcome', { enum: ['OK', 'REJECTED', 'PENDING'] }),
  param('code', 'only records with this error code', { type: 'string', maxLength: 64 }),
  param('since', 'only records at or after this RFC 3339 time', { type: 'string', format: 'date-time', maxLength: TIME_MAX }),
  param('until', `only records at or before this RFC 3339 time. With any filter a request scans at most ${RECORD_SCAN_WINDOW} records from \`from\`: a page may hold fewer than limit records, or none, with a non-null next; read on from next until it is null`, { type: 'string', format: 'date-time', maxLength: TIME_MAX }),
];

export interface RecordQuery {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: string;
  readonly code?: string;
  readonly since?: string;
  readonly until?: string;
}

/** A parsed filter: `store` is what SQL checks (stored columns), the rest is checked on the decoded record. */
export interface RecordFilter {
  readonly store: LedgerFilter;
  readonly action: string | null;
  readonly since: number | null;
  readonly until: number | null;
}

function bad(name: string, why: string): WritError {
  return new WritError('INVALID_ENVELOPE', `query parameter ${name} ${why}`);
}

function text(value: string | undefined, name: string, max: number, ok: (v: string) => boolean, what: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw bad(name, 'may be given once');
  if (value.length > max) throw bad(name, `is ${value.length} characters long; it may be at most ${max}`);
  if (!ok(value)) throw bad(name, `must be ${what}`);
  return value;
}

/** An RFC 3339 time whose date exists (Date.parse would read 2026-02-30 as 2 March). */
function validTime(v: string): boolean {
  if (!RFC3339.test(v) || !Number.isFinite(Date.parse(v))) return false;
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function time(value: string | undefined, name: string): number | null {
  const t = text(value, name, TIME_MAX, validTime, 'an RFC 3339 date-time, e.g. 2026-01-31T09:00:00Z');
  return t === null ? null : Date.parse(t);
}

/** The filter of a records request, or null when it has none (a plain page, no scan window). */
export function parseRecordFilter(q: RecordQuery): RecordFilter | null {
  const actor = text(q.actor, 'actor', FIELD_MAX.actor, (v) => PATTERNS.actor.test(v), 'an actor id');
  const action = text(q.action, 'action', FIELD_MAX.action, (v) => PATTERNS.action.test(v), 'an action name such as commerce.PlaceOrder');
  const outcome = text(q.outcome, 'outcome', 8, (v) => OUTCOMES.has(v), 'OK, REJECTED or PENDING');
  const code = text(q.code, 'code', 64, (v) => CODE.test(v), 'an error code such as FORBIDDEN');
  const since = time(q.since, 'since');
  const until = time(q.until, 'until');
  if (actor === null && action === null && outcome === null && code === null && since === null && until === null) return null;
  return { store: { actor, outcome, code }, action, since, until };
}

/** Whether a decoded record passes the parts of the filter the store does not check. */
export function recordMatches(f: RecordFilter, record: { readonly action?: unknown; readonly ts?: unknown }): boolean {
  if (f.action !== null && record.action !== f.action) return false;
  if (f.since === null && f.until === null) return true;
  const ts = typeof record.ts === 'string' ? Date.parse(record.ts) : NaN;
  if (f.since !== null && !(ts >= f.since)) return false;
  return f.until === null || ts <= f.until;
}
