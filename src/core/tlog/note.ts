import { WritError } from '../errors.js';
import { fromBase64, toBase64, toHex } from './base64.js';
import { ed25519Verify } from './ed25519.js';
import { hashEquals } from './hasher.js';
import { SIG_TYPE_ED25519, isValidKeyName, type VerifierKey } from './verifier-key.js';

/** C2SP signed-note: parsing, formatting and verification of notes signed with Ed25519 (type 0x01). */

export { ed25519Verify } from './ed25519.js';
export { SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519, formatVerifierKey, isValidKeyName, keyIdOf, parseVerifierKey, type VerifierKey } from './verifier-key.js';

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  /** The first 4 bytes of the decoded signature (the key ID). */
  keyId: Uint8Array;
  /** The bytes after the 4-byte key ID. */
  signature: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline but not the blank line after it. */
  text: string;
  signatures: NoteSignature[];
}

/** Largest note accepted, in UTF-8 bytes: far above any checkpoint with many post-quantum cosignatures. */
export const NOTE_MAX_BYTES = 1 << 20;
/** Most signature lines accepted (C2SP signed-note: verifiers MUST accept at least 16). */
export const NOTE_MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // em dash, space
const utf8 = new TextEncoder();

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

/** Notes MUST be valid UTF-8 without ASCII control characters other than newline (C2SP signed-note); throws PROOF_INVALID. */
export function checkCharacters(s: string, what: string): void {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) fail(`${what} contains a control character other than newline`);
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) fail(`${what} is not valid Unicode (lone surrogate)`);
}

/**
 * Parses a C2SP signed note strictly: at most NOTE_MAX_BYTES, valid characters, a text ending in
 * a newline, the last blank line, then one to NOTE_MAX_SIGNATURES lines `— <name> <base64>` each
 * ending in a newline, with a valid key name and at least 5 decoded bytes (key ID and signature).
 * Nothing is verified here. Throws PROOF_INVALID naming the problem.
 */
export function parseNote(note: string): Note {
  if (note.length > NOTE_MAX_BYTES || utf8.encode(note).length > NOTE_MAX_BYTES) fail(`the note is larger than ${NOTE_MAX_BYTES} bytes`);
  checkCharacters(note, 'the note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('the note has no blank line between its text and its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '') fail('the note has no signature lines after its blank line');
  if (!block.endsWith('\n')) fail('the last signature line of the note does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > NOTE_MAX_SIGNATURES) fail(`the note has ${lines.length} signatures, more than the ${NOTE_MAX_SIGNATURES} accepted`);
  const signatures = lines.map((line, i): NoteSignature => {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(SIG_PREFIX)) fail(`${where} does not start with an em dash (U+2014) and a space`);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) fail(`${where} has no space between the key name and the signature`);
    const name = rest.slice(0, space);
    if (!isValidKeyName(name)) fail(`${where} has an invalid key name ${JSON.stringify(name)}`);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(rest.slice(space + 1));
    } catch {
      fail(`${where} (${name}) is not canonical base64`);
    }
    if (bytes.length < 5) fail(`${where} (${name}) is shorter than a key ID and a signature`);
    return { name, keyId: bytes.slice(0, 4), signature: bytes.slice(4) };
  });
  return { text, signatures };
}

/** One C2SP signed-note signature line: `— <name> base64(keyId ‖ signature)` and a newline. */
export function signatureLine(sig: NoteSignature): string {
  if (!isValidKeyName(sig.name)) fail(`invalid key name ${JSON.stringify(sig.name)}`);
  if (sig.keyId.length !== 4) fail(`a key ID has 4 bytes, got ${sig.keyId.length}`);
  if (sig.signature.length === 0) fail('empty signature');
  const bytes = new Uint8Array(4 + sig.signature.length);
  bytes.set(sig.keyId);
  bytes.set(sig.signature, 4);
  return `${SIG_PREFIX}${sig.name} ${toBase64(bytes)}\n`;
}

/** The signed note: text (which MUST end with a newline), a blank line, one line per signature. */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  if (!text.endsWith('\n')) fail('the text of a note must end with a newline');
  checkCharacters(text, 'the note text');
  if (signatures.length === 0) fail('a signed note needs at least one signature');
  return `${text}\n${signatures.map(signatureLine).join('')}`;
}

/** A key or signature as `<name>+<key ID in hex>`, the way verifier keys begin. */
export function keyLabel(k: { readonly name: string; readonly keyId: Uint8Array }): string {
  return `${k.name}+${toHex(k.keyId)}`;
}

/**
 * Verifies a C2SP signed note against trusted Ed25519 (type 0x01) keys: every signature whose name
 * and key ID both match a key MUST verify, and a key may sign only once; signatures of other keys
 * are ignored, as the spec requires. Throws PROOF_INVALID when a matching signature is bad or when
 * none of `keys` signed. Returns the parsed note and the verified signatures.
 */
export async function verifyNote(note: string | Note, keys: readonly VerifierKey[]): Promise<{ note: Note; verified: NoteSignature[] }> {
  for (const key of keys) {
    if (key.type !== SIG_TYPE_ED25519) fail(`key ${key.name} has signature type 0x${key.type.toString(16)}; notes are verified with Ed25519 (0x01) keys, cosignatures with verifyCosignature`);
  }
  const parsed = typeof note === 'string' ? parseNote(note) : note;
  const message = utf8.encode(parsed.text);
  const verified: NoteSignature[] = [];
  const used = new Set<VerifierKey>();
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.name === sig.name && hashEquals(k.keyId, sig.keyId));
    if (!key) continue;
    if (used.has(key)) fail(`the note carries two signatures by key ${key.name}`);
    used.add(key);
    if (!(await ed25519Verify(key.publicKey, message, sig.signature))) fail(`the signature by ${key.name} does not verify over the note text`);
    verified.push(sig);
  }
  if (verified.length === 0) {
    // Named with their key IDs: two keys may share a name (two deployments left at writ.local),
    // and "expected writ.local; found writ.local" would not say which key is missing.
    fail(`the note is not signed by any trusted key (expected ${keys.map(keyLabel).join(', ') || 'no keys given'}; found ${parsed.signatures.map(keyLabel).join(', ')})`);
  }
  return { note: parsed, verified };
}
