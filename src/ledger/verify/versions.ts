import { jcs } from '../../canonical/jcs.js';
import type { EntityRow } from '../../store/port.js';

/** The fields of an entity version that the replay recomputes (all of them). */
const FIELDS = ['deleted', 'doc', 'updatedAt', 'updatedBy', 'scroll', 'index'] as const;

/** Equal values; the replay builds documents in the applier's key order, so JSON.stringify settles nearly all without RFC 8785. */
function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a ?? null) === JSON.stringify(b ?? null) || jcs(a ?? null) === jcs(b ?? null);
}

/**
 * Compares the entity versions a record's replay wrote with the stored versions that name that
 * record: each must be stored, field for field, and nothing more may be stored. Returns one message
 * per difference, naming the entity, its version and the record.
 */
export function compareVersions(produced: readonly EntityRow[], stored: readonly EntityRow[]): string[] {
  const out: string[] = [];
  const left = new Map(stored.map((s) => [`${s.tenant}\n${s.type}\n${s.id}\n${s.version}`, s]));
  for (const p of produced) {
    const k = `${p.tenant}\n${p.type}\n${p.id}\n${p.version}`;
    const s = left.get(k);
    const where = `${p.type}/${p.id} version ${p.version} (written by record ${p.scroll}/${p.index})`;
    if (!s) {
      out.push(`${where} is missing from the stored history`);
      continue;
    }
    left.delete(k);
    const bad = FIELDS.filter((f) => !same(p[f], s[f]));
    if (bad.length) out.push(`${where}: its stored ${bad.join(', ')} differs from the replay of the ledger (the state was changed)`);
  }
  for (const s of left.values()) out.push(`${s.type}/${s.id} version ${s.version} claims record ${s.scroll}/${s.index}, but no record wrote it (a forged entity version)`);
  return out;
}

/** The fields in which two records (leaf bytes) differ, for a message. */
export function differingFields(a: Buffer, b: Buffer): string {
  const x = JSON.parse(a.toString('utf8')) as Record<string, unknown>;
  const y = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((f) => x[f] !== y[f]);
  return fields.map((f) => `${f}: stored ${JSON.stringify(x[f])}, replayed ${JSON.stringify(y[f])}`).join('; ');
}
