/** Receipt verification with no Node API (the SDK's and the console's); receipt.ts adds node:crypto hashing. */
import { jcs } from '../canonical/jcs.js';
import { utf8 } from '../core/base64url.js';
import { checkEnvelopeShape, unsignedPart } from '../core/envelope.js';
import { WritError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import { parseVerifierKey, pureHasher, verifyTlogProof, type Hasher, type VerifierKey } from '../core/tlog/index.js';

/** What a receipt proves once verified: record `index` of log `log` is in its signed tree. */
export interface VerifiedReceipt {
  /** The checkpoint's origin, `<prefix>/<tenant>/<scroll>`. */
  readonly log: string;
  readonly index: number;
  readonly treeSize: number;
  /** Names of the trusted witnesses whose cosignatures verified. */
  readonly cosigners: readonly string[];
  /** The ledger record (DESIGN §6): the leaf bytes the proof covers, parsed. */
  readonly record: Readonly<Record<string, unknown>>;
}

export interface VerifyReceiptOptions {
  /** Trusted witnesses' verifier keys (vkey text or parsed). */
  readonly witnesses?: ReadonlyArray<string | VerifierKey>;
  /** Cosignatures required from `witnesses`; default 0. */
  readonly witnessQuorum?: number;
  /** When given, the record must name exactly this commandHash (signEnvelope returns it). */
  readonly commandHash?: string;
  /** RFC 6962 hashing: the portable one by default (the browser's); Node passes node:crypto's. */
  readonly hasher?: Hasher;
}

/**
 * The commandHash of an envelope: SHA-256 of the RFC 8785 bytes of everything but its signature,
 * as the ledger record names it. Throws INVALID_ENVELOPE for anything that is not an envelope.
 */
export function commandHashOf(envelope: unknown): string {
  return sha256Hex(utf8(jcs(unsignedPart(checkEnvelopeShape(envelope, true)))));
}

function keyOf(key: string | VerifierKey): VerifierKey {
  return typeof key === 'string' ? parseVerifierKey(key) : key;
}

/**
 * Verifies a writ receipt (a C2SP tlog-proof, GET /v1/receipts/{tenant}/{requestId}) offline with
 * nothing but the log's verifier key (GET /v1/logs lists it): the checkpoint signature, the
 * witnesses' cosignatures, the inclusion of the record, and that the record is the one its proof
 * is for. Throws WritError PROOF_INVALID naming what failed.
 */
export async function verifyReceipt(text: string, logKey: string | VerifierKey, options: VerifyReceiptOptions = {}): Promise<VerifiedReceipt> {
  const witnesses = (options.witnesses ?? []).map(keyOf);
  const proved = await verifyTlogProof(text, keyOf(logKey), { witnesses, witnessQuorum: options.witnessQuorum ?? 0, hasher: options.hasher ?? pureHasher });
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(proved.leaf)) as Record<string, unknown>;
  } catch {
    throw new WritError('PROOF_INVALID', 'the proven leaf is not a JSON ledger record');
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new WritError('PROOF_INVALID', 'the proven leaf is not a JSON ledger record');
  if (record.index !== proved.index) throw new WritError('PROOF_INVALID', `the record says index ${String(record.index)} but the proof is for ${proved.index}`);
  if (options.commandHash !== undefined && options.commandHash !== record.commandHash) {
    throw new WritError('PROOF_INVALID', `the envelope's commandHash ${options.commandHash} is not the one the record names (${String(record.commandHash)}): this receipt is not for that command`);
  }
  return { log: proved.checkpoint.origin, index: proved.index, treeSize: proved.checkpoint.size, cosigners: proved.cosigners, record };
}
