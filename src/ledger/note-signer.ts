import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { WritError } from '../core/errors.js';
import { cosignatureMessage, encodeTimestamp } from '../core/tlog/cosignature.js';
import { formatNote, isValidKeyName, type NoteSignature } from '../core/tlog/note.js';
import { SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519, formatVerifierKey, keyIdOf, type VerifierKey } from '../core/tlog/verifier-key.js';

/**
 * Server-side signing of C2SP signed notes (checkpoints, type 0x01) and C2SP tlog-cosignatures
 * (type 0x04) with an Ed25519 private key from a PKCS#8 PEM file. Verification lives in
 * src/core/tlog/, which runs in browsers too.
 */

/** The raw 32-byte Ed25519 public key (RFC 8032) of an SPKI public or PKCS#8 private key PEM. */
export function publicKeyFromPem(pem: string): Uint8Array {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new WritError('INTERNAL', 'not a PEM public or private key', { cause: err });
  }
  return rawPublicKey(key);
}

function rawPublicKey(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType !== 'ed25519') throw new WritError('INTERNAL', `expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  // The JWK "x" member is the raw public key, base64url (RFC 8037 §2).
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new WritError('INTERNAL', 'the Ed25519 key has no public part');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

function loadPrivateKey(name: string, privateKeyPem: string): { key: KeyObject; publicKey: Uint8Array } {
  if (!isValidKeyName(name)) throw new WritError('INTERNAL', `invalid note key name ${JSON.stringify(name)}: it must be non-empty, without spaces or "+"`);
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new WritError('INTERNAL', `the key for ${name} is not a PKCS#8 PEM private key`, { cause: err });
  }
  return { key, publicKey: rawPublicKey(createPublicKey(key)) };
}

/** An Ed25519 key with a note key name, and its verifier key for one signature type. */
abstract class NamedKey {
  readonly name: string;
  readonly publicKey: Uint8Array;
  /** The verifier key `name+keyid+base64(type ‖ key)` that verifiers configure. */
  readonly vkey: string;
  readonly verifierKey: VerifierKey;
  protected readonly key: KeyObject;

  protected constructor(name: string, privateKeyPem: string, type: number) {
    const { key, publicKey } = loadPrivateKey(name, privateKeyPem);
    this.name = name;
    this.publicKey = publicKey;
    this.key = key;
    this.vkey = formatVerifierKey(name, publicKey, type);
    this.verifierKey = Object.freeze({ name, keyId: keyIdOf(name, type, publicKey), type, publicKey });
  }
}

/** Signs note text (a checkpoint) as the log: C2SP signed-note Ed25519, type 0x01. */
export class NoteSigner extends NamedKey {
  constructor(name: string, privateKeyPem: string) {
    super(name, privateKeyPem, SIG_TYPE_ED25519);
  }

  /** The Ed25519 signature of the note text (which must end with a newline). */
  sign(text: string): NoteSignature {
    if (!text.endsWith('\n')) throw new WritError('INTERNAL', 'note text to sign must end with a newline');
    const signature = new Uint8Array(sign(null, Buffer.from(text, 'utf8'), this.key));
    return { name: this.name, keyId: this.verifierKey.keyId.slice(), signature };
  }

  /** The whole signed note: the text, a blank line and this key's signature line. */
  signNote(text: string): string {
    return formatNote(text, [this.sign(text)]);
  }
}

/** Cosigns checkpoints as a witness: C2SP tlog-cosignature, Ed25519 type 0x04. */
export class CosignatureSigner extends NamedKey {
  constructor(name: string, privateKeyPem: string) {
    super(name, privateKeyPem, SIG_TYPE_COSIGNATURE);
  }

  /** The note signature (timestamp ‖ Ed25519 signature) of the checkpoint text at `timestamp` (POSIX seconds). */
  cosign(checkpointText: string, timestamp: number): NoteSignature {
    const message = cosignatureMessage(timestamp, checkpointText);
    const signature = new Uint8Array(72);
    signature.set(encodeTimestamp(timestamp));
    signature.set(sign(null, message, this.key), 8);
    return { name: this.name, keyId: this.verifierKey.keyId.slice(), signature };
  }
}
