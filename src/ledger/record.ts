import { jcsBytes } from '../canonical/jcs.js';
import { leafHashHex } from '../core/hash.js';

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
  readonly outcome: 'OK' | 'REJECTED';
  readonly code: string | null;
  readonly target: string | null;
  readonly version: number | null;
  readonly resultHash: string | null;
  /** Leaf hash of the previous record of the same log; 64 zeros for the first. */
  readonly prev: string;
}

/** The exact leaf bytes (RFC 8785) and their RFC 6962 leaf hash. */
export function encodeRecord(record: LedgerRecord): { leaf: Buffer; leafHash: string } {
  const leaf = jcsBytes(record);
  return { leaf, leafHash: leafHashHex(leaf) };
}

export function originOf(prefix: string, tenant: string, scroll: string): string {
  return `${prefix}/${tenant}/${scroll}`;
}
