import { jcsBytes } from '../canonical/jcs.js';
import { WritError } from '../core/errors.js';
import { leafHashHex } from '../core/hash.js';

/**
 * Largest leaf writ writes. A C2SP entry bundle prefixes each entry with a uint16 length, so no leaf
 * may exceed 65,535 bytes; the envelope's field bounds (core/envelope.ts FIELD_MAX) keep the largest
 * possible record near 4 KiB, and this bound, checked where the leaf is built, holds whatever a
 * pack or a future field does.
 */
export const MAX_LEAF_BYTES = 8192;

/** The leaf of a record would exceed MAX_LEAF_BYTES: nothing is written. */
export class RecordTooLarge extends WritError {
  constructor(bytes: number) {
    super('INVALID_ENVELOPE', `the ledger record of this command would be ${bytes} bytes; the limit is ${MAX_LEAF_BYTES} (shorten its action, actor, requestId or target)`);
  }
}

/** The ledger record, the leaf of a log (DESIGN §6). Field set and meaning are public contract. */
export interface LedgerRecord {
  readonly v: 1;
  readonly index: number;
  readonly ts: string;
  readonly tenant: string;
  readonly scroll: string;
  readonly actor: string;
  readonly action: string;
  readonly requestId: string;
  readonly commandHash: string;
  /** `PENDING`: the command is held for approval; its execution (or refusal) is a later record. */
  readonly outcome: 'OK' | 'REJECTED' | 'PENDING';
  readonly code: string | null;
  readonly target: string | null;
  readonly version: number | null;
  readonly resultHash: string | null;
  /** Leaf hash of the previous record of the same log; 64 zeros for the first. */
  readonly prev: string;
}

/**
 * The exact leaf bytes (RFC 8785) and their RFC 6962 leaf hash. A record is a flat object of
 * strings, safe integers and nulls; for such a value RFC 8785 §3.2 is JSON.stringify with the
 * members in code-unit order (its string and number rules are those of ECMAScript), so the record
 * is serialised directly in that order, several times faster than a general canonicaliser. A test
 * checks the bytes against the canonicalize library on random records. Throws RecordTooLarge above
 * MAX_LEAF_BYTES.
 */
export function encodeRecord(record: LedgerRecord): { leaf: Buffer; leafHash: string } {
  const leaf = Buffer.from(
    JSON.stringify({
      action: record.action,
      actor: record.actor,
      code: record.code,
      commandHash: record.commandHash,
      index: record.index,
      outcome: record.outcome,
      prev: record.prev,
      requestId: record.requestId,
      resultHash: record.resultHash,
      scroll: record.scroll,
      target: record.target,
      tenant: record.tenant,
      ts: record.ts,
      v: record.v,
      version: record.version,
    }),
    'utf8',
  );
  if (leaf.length > MAX_LEAF_BYTES) throw new RecordTooLarge(leaf.length);
  return { leaf, leafHash: leafHashHex(leaf) };
}

/** The general canonical form, for checking encodeRecord. */
export function encodeRecordGeneric(record: LedgerRecord): Buffer {
  return jcsBytes(record);
}

export function originOf(prefix: string, tenant: string, scroll: string): string {
  return `${prefix}/${tenant}/${scroll}`;
}
