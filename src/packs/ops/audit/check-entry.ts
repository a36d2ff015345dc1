import { jcs } from '../../../canonical/jcs.js';
import { sha256Hex } from '../../../core/hash.js';
import { originOf } from '../../../ledger/record.js';
import type { OutboxEvent } from '../../../store/port.js';
import { entryPath } from './names.js';

/** An entry as the mirror writes it (mirror.ts). */
export interface AuditEntry {
  readonly log: string;
  readonly index: number;
  readonly leafHash: string;
  readonly tenant: string;
  readonly workspace: string;
  readonly op: string;
  /** The outbox event as the mirror files it (the checks below do not read its id). */
  readonly event: Omit<OutboxEvent, 'id' | 'data'> & { readonly data: Record<string, any> | null };
}

const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses one file of the mirror and checks what it says of itself: its shape, that its path is the
 * one its content names, and that it belongs to this mirror's tenant and workspace. Returns the
 * entry, or why it is not one.
 */
export function parseEntry(path: string, bytes: Buffer | null, where: { tenant: string; workspace: string; originPrefix: string }): AuditEntry | string {
  if (bytes === null) return 'it is larger than any entry the mirror writes';
  let e: unknown;
  try {
    e = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'it is not JSON';
  }
  if (!isObject(e) || !isObject(e.event) || typeof e.log !== 'string' || !Number.isSafeInteger(e.index) || typeof e.leafHash !== 'string' || typeof e.op !== 'string') return 'it is not an audit entry (log, index, leafHash, op, event)';
  const entry = e as unknown as AuditEntry;
  const ev = entry.event;
  if (typeof ev.scroll !== 'string' || typeof ev.action !== 'string' || typeof ev.ts !== 'string') return 'its event lacks scroll, action or ts';
  let expected: string;
  try {
    expected = entryPath(entry.op, entry.index, ev.action);
  } catch (err) {
    return (err as Error).message;
  }
  if (expected !== path) return `its content names ${expected}`;
  if (entry.tenant !== where.tenant || ev.tenant !== where.tenant || entry.workspace !== where.workspace) return `it names tenant ${JSON.stringify(entry.tenant)} and workspace ${JSON.stringify(entry.workspace)}, not this mirror's`;
  if (ev.index !== entry.index) return `its event is record ${String(ev.index)}, not ${entry.index}`;
  if (entry.log !== originOf(where.originPrefix, where.tenant, ev.scroll)) return `its log ${JSON.stringify(entry.log)} is not the origin of ${where.tenant}/${ev.scroll}`;
  return entry;
}

/**
 * What differs between an entry and the ledger record its receipt proves (fields the record
 * hashes: action, requestId, target, version, ts and the result's hash), or null.
 */
export function differsFromRecord(entry: AuditEntry, record: Readonly<Record<string, unknown>>): string | null {
  const ev = entry.event;
  const data = ev.data ?? {};
  // A held command's record hashes the approval summary its event carries; an applied one, its result.
  const hashed = ev.type === 'approval.requested' ? data.approval : data.result;
  const pairs: Array<[string, unknown, unknown]> = [
    ['action', ev.action, record.action],
    ['requestId', data.requestId, record.requestId],
    ['actor', data.actor, record.actor],
    ['target', ev.target, record.target],
    ['version', ev.version, record.version],
    ['ts', ev.ts, record.ts],
    ['scroll', ev.scroll, record.scroll],
    ['result hash', hashed === undefined ? undefined : sha256Hex(jcs(hashed)), record.resultHash],
  ];
  const bad = pairs.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name} ${JSON.stringify(a)} (the ledger has ${JSON.stringify(b)})`);
  return bad.length ? bad.join(', ') : null;
}
