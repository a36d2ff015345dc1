import { parseCheckpoint, verifyConsistency, verifyNote, parseVerifierKey, fromBase64, toBase64, hashEquals } from '../../core/tlog/index.js';
import type { Api } from './api.js';

/**
 * What the browser trusts and remembers: the log's verifier key the user pinned (pasted, or taken
 * from the server once and kept), and, per log, the last checkpoint it verified, so that the next
 * visit can prove the log only grew (RFC 6962 §2.1.2 consistency) or say loudly that it did not.
 */
const PIN = 'writ.vkey';
const SEEN = 'writ.seen.';

export function pinnedKey(): string | null {
  return localStorage.getItem(PIN);
}

/** Pins a verifier key after checking that it parses (C2SP signed-note vkey). */
export function pinKey(vkey: string): void {
  parseVerifierKey(vkey.trim());
  localStorage.setItem(PIN, vkey.trim());
}

export type Consistency =
  | { kind: 'first'; size: number }
  | { kind: 'same'; size: number }
  | { kind: 'grew'; from: number; size: number }
  | { kind: 'rollback'; from: number; size: number }
  | { kind: 'split'; size: number; why: string };

/**
 * Fetches a log's latest checkpoint, verifies its signature with the pinned key, and checks it
 * against the one seen last time: same size must mean same root (else a split view), a smaller
 * size is a rollback, a larger one must come with a valid consistency proof. Remembers the new one
 * only when it is consistent.
 */
export async function checkLog(api: Api, tenant: string, scroll: string): Promise<Consistency> {
  const vkey = pinnedKey();
  if (!vkey) throw new Error('pin the log verifier key first (Verify page)');
  const text = (await api.request('GET', `/v1/logs/${encodeURIComponent(tenant)}/${encodeURIComponent(scroll)}/checkpoint`)).text;
  const { note } = await verifyNote(text, [parseVerifierKey(vkey)]);
  const cp = parseCheckpoint(note.text);
  const key = `${SEEN}${cp.origin}`;
  const seenText = localStorage.getItem(key);
  const remember = () => localStorage.setItem(key, JSON.stringify({ size: cp.size, root: toBase64(cp.root) }));
  if (!seenText) return remember(), { kind: 'first', size: cp.size };
  const seen = JSON.parse(seenText) as { size: number; root: string };
  const oldRoot = fromBase64(seen.root);
  if (cp.size < seen.size) return { kind: 'rollback', from: seen.size, size: cp.size };
  if (cp.size === seen.size) {
    return hashEquals(oldRoot, cp.root) ? { kind: 'same', size: cp.size } : { kind: 'split', size: cp.size, why: 'same size, different root hash' };
  }
  const proof = await api.get(`/v1/logs/${encodeURIComponent(tenant)}/${encodeURIComponent(scroll)}/proof/consistency?from=${seen.size}&to=${cp.size}`);
  try {
    verifyConsistency(seen.size, cp.size, oldRoot, cp.root, (proof.hashes as string[]).map(fromBase64));
  } catch (err) {
    return { kind: 'split', size: cp.size, why: err instanceof Error ? err.message : String(err) };
  }
  remember();
  return { kind: 'grew', from: seen.size, size: cp.size };
}
