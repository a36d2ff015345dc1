import { jcs } from '../../canonical/jcs.js';
import type { EntityRow } from '../../store/port.js';

/** The fields of an entity version that the replay recomputes (all of them). */
const FIELDS = ['deleted', 'doc', 'updatedAt', 'updatedBy', 'scroll', 'index'] as const;

/** Equal values; the replay builds documents in the applier's key order, so JSON.stringify settles nearly all without RFC 8785. */
function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null) || jcs(a ?? null) === jcs(b ?? null);
}

/** One difference between an entity version the replay wrote and what the store holds. */
export interface VersionDiff {
  readonly tenant: string;
  readonly type: string;
  readonly id: string;
  readonly version: number;
  /** The record (`scroll/index`) that wrote the version, or that the stored version claims. */
  readonly record: string;
  /** `changed`: stored with other `fields`; `missing`: not stored; `forged`: stored, written by no record. */
  readonly kind: 'changed' | 'missing' | 'forged';
  readonly fields: readonly string[];
}

/**
 * Compares the entity versions a record's replay wrote with the stored versions that name that
 * record: each must be stored, field for field, and nothing more may be stored.
 */
export function diffVersions(produced: readonly EntityRow[], stored: readonly EntityRow[]): VersionDiff[] {
  const out: VersionDiff[] = [];
  const left = new Map(stored.map((s) => [`${s.tenant}\n${s.type}\n${s.id}\n${s.version}`, s]));
  for (const p of produced) {
    const k = `${p.tenant}\n${p.type}\n${p.id}\n${p.version}`;
    const s = left.get(k);
    const at = { tenant: p.tenant, type: p.type, id: p.id, version: p.version, record: `${p.scroll}/${p.index}` };
    if (!s) {
      out.push({ ...at, kind: 'missing', fields: [] });
      continue;
    }
    left.delete(k);
    const bad = FIELDS.filter((f) => !same(p[f], s[f]));
    if (bad.length) out.push({ ...at, kind: 'changed', fields: bad });
  }
  for (const s of left.values()) out.push(forged(s));
  return out;
}

/** A stored version that no record wrote. */
export function forged(s: EntityRow): VersionDiff {
  return { tenant: s.tenant, type: s.type, id: s.id, version: s.version, record: `${s.scroll}/${s.index}`, kind: 'forged', fields: [] };
}

/** A difference as one sentence naming the entity, its version and the record. */
export function describeDiff(d: VersionDiff): string {
  const where = `${d.type}/${d.id} version ${d.version}`;
  if (d.kind === 'missing') return `${where} (written by record ${d.record}) is missing from the stored history`;
  if (d.kind === 'changed') return `${where} (written by record ${d.record}): its stored ${d.fields.join(', ')} differs from the replay of the ledger (the state was changed)`;
  return `${where} claims record ${d.record}, but no record wrote it (a forged entity version)`;
}

/** The fields in which two records (leaf bytes) differ, for a message. */
export function differingFields(a: Buffer, b: Buffer): string {
  const x = JSON.parse(a.toString('utf8')) as Record<string, unknown>;
  const y = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((f) => x[f] !== y[f]);
  return fields.map((f) => `${f}: stored ${JSON.stringify(x[f])}, replayed ${JSON.stringify(y[f])}`).join('; ');
}
