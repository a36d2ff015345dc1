import { WritError } from '../errors.js';
import { fromBase64, fromHex, toBase64, toHex } from './base64.js';
import { hashEquals } from './hasher.js';
import { sha256 } from './sha256.js';

/** C2SP signed-note signature type: Ed25519 over the note text. */
export const SIG_TYPE_ED25519 = 0x01;
/** C2SP signed-note signature type: timestamped Ed25519 witness cosignature (C2SP tlog-cosignature). */
export const SIG_TYPE_COSIGNATURE = 0x04;

/** A public key that verifies note signatures (C2SP signed-note "verifier key"). */
export interface VerifierKey {
  name: string;
  /** 4 bytes: SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4]. */
  keyId: Uint8Array;
  /** 0x01 Ed25519, 0x04 Ed25519 cosignature. */
  type: number;
  /** 32-byte Ed25519 public key (RFC 8032). */
  publicKey: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * C2SP signed-note: key names MUST be non-empty and MUST NOT contain Unicode spaces or `+`.
 * Control characters and lone surrogates (not valid UTF-8) are refused too; \s misses U+0085.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+\u0000-\u001f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u.test(name);
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new WritError('PROOF_INVALID', `invalid key name ${JSON.stringify(name)}: it must be non-empty, without spaces or "+"`);
}

/** The 4-byte key ID of C2SP signed-note: SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4]. */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  const buf = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  buf.set(nameBytes);
  buf[nameBytes.length] = 0x0a;
  buf[nameBytes.length + 1] = type;
  buf.set(publicKey, nameBytes.length + 2);
  return sha256(buf).slice(0, 4);
}

/** The C2SP signed-note verifier key text `name+hex(keyId)+base64(type ‖ publicKey)`. */
export function formatVerifierKey(name: string, publicKey: Uint8Array, type: number = SIG_TYPE_ED25519): string {
  checkName(name);
  checkKeyMaterial(type, publicKey);
  const material = new Uint8Array(1 + publicKey.length);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${toHex(keyIdOf(name, type, publicKey))}+${toBase64(material)}`;
}

function checkKeyMaterial(type: number, publicKey: Uint8Array): void {
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE) {
    throw new WritError('PROOF_INVALID', `unsupported signature type 0x${type.toString(16).padStart(2, '0')}: writ knows Ed25519 (0x01) and Ed25519 cosignatures (0x04)`);
  }
  if (publicKey.length !== 32) throw new WritError('PROOF_INVALID', `an Ed25519 public key has 32 bytes, got ${publicKey.length}`);
}

/**
 * Parses a C2SP signed-note verifier key strictly: `name+keyid+key` (split at the first two `+`), a valid name,
 * 8 lowercase hex digits of key ID, canonical base64 of a known type byte and a 32-byte key, and
 * a key ID that matches the name and key. Throws PROOF_INVALID naming the problem.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  // The name has no "+", the key ID neither; the base64 key material may contain some.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) throw new WritError('PROOF_INVALID', 'a verifier key is name+keyid+key, with two "+" separators at least');
  const [name, hex, b64] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  checkName(name);
  if (!/^[0-9a-f]{8}$/.test(hex)) throw new WritError('PROOF_INVALID', `the key ID of verifier key ${name} must be 8 lowercase hex digits`);
  let material: Uint8Array;
  try {
    material = fromBase64(b64);
  } catch (err) {
    throw new WritError('PROOF_INVALID', `the key of verifier key ${name} is not canonical base64`, { cause: err });
  }
  if (material.length === 0) throw new WritError('PROOF_INVALID', `verifier key ${name} has no key material`);
  const type = material[0];
  const publicKey = material.slice(1);
  checkKeyMaterial(type, publicKey);
  const keyId = fromHex(hex);
  if (!hashEquals(keyId, keyIdOf(name, type, publicKey))) throw new WritError('PROOF_INVALID', `the key ID of verifier key ${name} does not match its name and key`);
  return { name, keyId, type, publicKey };
}
