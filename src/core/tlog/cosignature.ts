import { WritError } from '../errors.js';
import { ed25519Verify } from './ed25519.js';
import { hashEquals } from './hasher.js';
import { checkCharacters, type NoteSignature } from './note.js';
import { SIG_TYPE_COSIGNATURE, type VerifierKey } from './verifier-key.js';

/**
 * C2SP tlog-cosignature, Ed25519 type 0x04: a witness's note signature on a checkpoint whose bytes
 * are the `timestamped_signature` struct, a big-endian u64 POSIX timestamp then a 64-byte Ed25519
 * signature over cosignatureMessage().
 */

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

const utf8 = new TextEncoder();

/**
 * The message an Ed25519 cosigner signs (C2SP tlog-cosignature "Ed25519 signed message"):
 * `cosignature/v1\n`, `time <timestamp>\n`, then the whole checkpoint note text with its final
 * newline and without signature lines.
 */
export function cosignatureMessage(timestamp: number, checkpointText: string): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) fail(`a cosignature timestamp must be a non-negative safe integer, got ${String(timestamp)}`);
  if (!checkpointText.endsWith('\n') || checkpointText.includes('\n\n')) fail('the cosigned text must be the checkpoint note text, ending with one newline and without signatures');
  checkCharacters(checkpointText, 'the checkpoint text');
  return utf8.encode(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** Encodes the u64 timestamp big-endian, as the 8 first bytes of a `timestamped_signature`. */
export function encodeTimestamp(timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) fail(`a cosignature timestamp must be a non-negative safe integer, got ${String(timestamp)}`);
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(timestamp / 2 ** 32));
  view.setUint32(4, timestamp % 2 ** 32);
  return out;
}

/**
 * Verifies one Ed25519 cosignature (type 0x04) by `witnessKey` on the checkpoint note text. The
 * signature line must carry the witness's name and key ID and exactly 8 + 64 bytes; timestamps
 * beyond 2^53 - 1 are refused (the spec allows up to 2^63 - 1; no real clock gets there).
 * Throws PROOF_INVALID; returns the timestamp the witness signed.
 */
export async function verifyCosignature(sig: NoteSignature, witnessKey: VerifierKey, checkpointText: string): Promise<{ timestamp: number }> {
  if (witnessKey.type !== SIG_TYPE_COSIGNATURE) fail(`witness key ${witnessKey.name} has type 0x${witnessKey.type.toString(16)}, not 0x04 (Ed25519 cosignature)`);
  if (sig.name !== witnessKey.name || !hashEquals(sig.keyId, witnessKey.keyId)) fail(`the signature by ${sig.name} is not from witness key ${witnessKey.name}`);
  if (sig.signature.length !== 72) fail(`the cosignature by ${sig.name} has ${sig.signature.length} bytes instead of 8 + 64`);
  const view = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8);
  const high = view.getUint32(0);
  if (high >= 2 ** 21) fail(`the cosignature by ${sig.name} has a timestamp beyond 2^53 - 1`);
  const timestamp = high * 2 ** 32 + view.getUint32(4);
  const message = cosignatureMessage(timestamp, checkpointText);
  if (!(await ed25519Verify(witnessKey.publicKey, message, sig.signature.subarray(8)))) {
    fail(`the cosignature by ${sig.name} does not verify over the checkpoint`);
  }
  return { timestamp };
}
