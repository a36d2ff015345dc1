import { createHash, createHmac } from 'node:crypto';
import type { Store } from '../../src/store/port.js';

/**
 * Independent re-implementations used to check writ's own hashing, written from the specs and not
 * from writ's code, so that a test does not grade writ against itself.
 */

/**
 * RFC 8785 (JCS) for the JSON values writ records carry: objects, arrays, strings, finite numbers,
 * booleans and null. Object keys are sorted by UTF-16 code units (RFC 8785 §3.2.3), which is what
 * Array.prototype.sort does on strings; strings and numbers are serialised as ECMAScript's
 * JSON.stringify does (RFC 8785 §3.2.2.2, §3.2.2.3).
 */
export function refJcs(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JCS cannot represent a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(refJcs).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${refJcs(v)}`).join(',')}}`;
  }
  throw new TypeError(`JCS cannot represent a ${typeof value}`);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf). */
export function refLeafHash(leaf: Uint8Array): string {
  return createHash('sha256').update(Buffer.from([0])).update(leaf).digest('hex');
}

/** SHA-256 of JCS(envelope without `signature`), DESIGN §2. */
export function refCommandHash(envelope: Record<string, unknown>): string {
  const { signature: _signature, ...unsigned } = envelope;
  return sha256(refJcs(unsigned));
}

export const GENESIS = '0'.repeat(64);

/** The exact field set of a ledger leaf (DESIGN §6). */
export const LEAF_FIELDS = ['v', 'index', 'ts', 'tenant', 'scroll', 'actor', 'action', 'requestId', 'commandHash', 'outcome', 'code', 'target', 'version', 'resultHash', 'prev'] as const;

/** A ledger leaf as tests read it back, parsed from the stored leaf bytes (DESIGN §6). */
export interface LeafRecord {
  readonly v: number;
  readonly index: number;
  readonly ts: string;
  readonly tenant: string;
  readonly scroll: string;
  readonly actor: string;
  readonly action: string;
  readonly requestId: string;
  readonly commandHash: string;
  readonly outcome: 'OK' | 'REJECTED' | 'PENDING';
  readonly code: string | null;
  readonly target: string | null;
  readonly version: number | null;
  readonly resultHash: string | null;
  readonly prev: string;
}

export interface ReadRecord {
  readonly index: number;
  readonly leaf: Buffer;
  readonly leafHash: string;
  readonly record: Record<string, any>;
}

/** Every record of one log, read straight from the store. */
export async function readLog(store: Store, tenant: string, scroll: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for (let from = 0; ; from += 1000) {
    const rows = await store.readLedger(tenant, scroll, from, 1000);
    for (const r of rows) out.push({ index: r.index, leaf: r.leaf, leafHash: r.leafHash, record: JSON.parse(r.leaf.toString('utf8')) as Record<string, any> });
    if (rows.length < 1000) return out;
  }
}

/** The last record of a log, or undefined for an empty log. */
export async function lastRecord(store: Store, tenant: string, scroll: string): Promise<ReadRecord | undefined> {
  const log = await readLog(store, tenant, scroll);
  return log[log.length - 1];
}

/**
 * RFC 4226 HOTP with HMAC-SHA-1 (§5.3 dynamic truncation); RFC 6238 TOTP is this over the counter
 * floor(unix seconds / 30). Written from the RFCs, to check src/approvals/totp.ts against.
 */
export function refHotp(key: Uint8Array, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, '0');
}
