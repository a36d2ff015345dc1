import { strict as assert } from 'node:assert';
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { WritError } from '../src/core/errors.js';
import { formatCheckpoint, parseCheckpoint } from '../src/core/tlog/checkpoint.js';
import { cosignatureMessage, verifyCosignature } from '../src/core/tlog/cosignature.js';
import {
  SIG_TYPE_COSIGNATURE,
  formatNote,
  formatVerifierKey,
  keyIdOf,
  parseNote,
  parseVerifierKey,
  signatureLine,
  verifyNote,
  type NoteSignature,
} from '../src/core/tlog/note.js';
import { sha256 } from '../src/core/tlog/sha256.js';
import { CosignatureSigner, NoteSigner, publicKeyFromPem } from '../src/ledger/note-signer.js';

const isProofInvalid = (err: unknown): boolean => err instanceof WritError && err.code === 'PROOF_INVALID';
const proofInvalid = (pattern: RegExp) => (err: unknown): boolean => isProofInvalid(err) && pattern.test((err as Error).message);

function newKey(): { pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

/** Raw 32-byte key from the DER SubjectPublicKeyInfo: the last 32 bytes (RFC 8410 §4). */
const rawKey = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' }).subarray(-32);

const ORIGIN = 'writ.example/acme/orders';
const TEXT = formatCheckpoint({ origin: ORIGIN, size: 5, root: sha256(new Uint8Array([1, 2, 3])), extensions: [] });
const log = newKey();
const signer = new NoteSigner(ORIGIN, log.pem);

/** Replaces the base64 of the first signature line of `note`. */
function withSignatureBytes(note: string, edit: (bytes: Buffer) => Buffer | string): string {
  const [text, sigs] = [note.slice(0, note.lastIndexOf('\n\n') + 2), note.slice(note.lastIndexOf('\n\n') + 2)];
  const [first, ...rest] = sigs.split('\n');
  const [dash, name, b64] = first.split(' ');
  const edited = edit(Buffer.from(b64, 'base64'));
  return `${text}${[`${dash} ${name} ${typeof edited === 'string' ? edited : edited.toString('base64')}`, ...rest].join('\n')}`;
}

describe('signed notes (C2SP signed-note)', () => {
  it('are signed by NoteSigner and verified by verifyNote', async () => {
    const note = signer.signNote(TEXT);
    const { note: parsed, verified } = await verifyNote(note, [signer.verifierKey]);
    assert.equal(parsed.text, TEXT);
    assert.deepEqual(verified.map((s) => s.name), [ORIGIN]);
    assert.deepEqual(await verifyNote(note, [parseVerifierKey(signer.vkey)]).then((r) => r.verified.length), 1);
  });

  it('carry an Ed25519 signature over the note text and a key ID that node:crypto confirm independently', () => {
    const note = signer.signNote(TEXT);
    assert.ok(note.startsWith(`${TEXT}\n\u2014 ${ORIGIN} `) && note.endsWith('\n'));
    const bytes = Buffer.from(note.slice(TEXT.length + 1).split(' ')[2].trimEnd(), 'base64');
    const keyId = createHash('sha256').update(ORIGIN).update('\n').update(Uint8Array.of(1)).update(rawKey(log.publicKey)).digest().subarray(0, 4);
    assert.deepEqual(bytes.subarray(0, 4), keyId);
    assert.equal(bytes.length, 68);
    assert.ok(verify(null, Buffer.from(TEXT, 'utf8'), log.publicKey, bytes.subarray(4)));
    assert.equal(signer.vkey, `${ORIGIN}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(1), rawKey(log.publicKey)]).toString('base64')}`);
    assert.deepEqual(publicKeyFromPem(log.pem), new Uint8Array(rawKey(log.publicKey)));
    assert.deepEqual(publicKeyFromPem(log.publicKey.export({ type: 'spki', format: 'pem' }).toString()), new Uint8Array(rawKey(log.publicKey)));
  });

  it('verify the example note of golang.org/x/mod/sumdb/note (its package documentation)', async () => {
    const key = parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
    const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const note = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    assert.equal((await verifyNote(note, [key])).note.text, text);
    await assert.rejects(verifyNote(note.replace('problem,', 'problem;'), [key]), proofInvalid(/does not verify/));
  });

  it('ignore signatures of unknown keys and verify the known one among them', async () => {
    const other = new NoteSigner('other.example/log', newKey().pem);
    const note = formatNote(TEXT, [other.sign(TEXT), { name: ORIGIN, keyId: Uint8Array.of(1, 2, 3, 4), signature: new Uint8Array(64) }, signer.sign(TEXT)]);
    const { verified } = await verifyNote(note, [signer.verifierKey]);
    assert.deepEqual(verified.map((s) => s.name), [ORIGIN]);
  });

  it('are rejected when signed by another key, or only by unknown keys', async () => {
    const impostor = new NoteSigner(ORIGIN, newKey().pem);
    await assert.rejects(verifyNote(impostor.signNote(TEXT), [signer.verifierKey]), proofInvalid(/not signed by any trusted key/));
    await assert.rejects(verifyNote(signer.signNote(TEXT), []), proofInvalid(/not signed by any trusted key/));
  });

  it('are rejected when the text, the signature or the key ID was tampered with', async () => {
    const note = signer.signNote(TEXT);
    await assert.rejects(verifyNote(note.replace('\n5\n', '\n6\n'), [signer.verifierKey]), proofInvalid(/does not verify/));
    const flipped = withSignatureBytes(note, (b) => ((b[10] ^= 1), b));
    await assert.rejects(verifyNote(flipped, [signer.verifierKey]), proofInvalid(/does not verify/));
    const otherId = withSignatureBytes(note, (b) => ((b[0] ^= 1), b));
    await assert.rejects(verifyNote(otherId, [signer.verifierKey]), proofInvalid(/not signed by any trusted key/));
  });

  it('are rejected when a trusted key signed twice', async () => {
    const sig = signer.sign(TEXT);
    await assert.rejects(verifyNote(formatNote(TEXT, [sig, sig]), [signer.verifierKey]), proofInvalid(/two signatures/));
  });

  it('reject malformed notes, naming the problem', () => {
    const note = signer.signNote(TEXT);
    const cases: Array<[string, RegExp]> = [
      [note.replace(`${TEXT}\n`, TEXT), /no blank line/],
      [note.replace('\u2014', '-'), /em dash/],
      [note.replace('\u2014', '\u2013'), /em dash/],
      [note.replace('\u2014 ', '\u2014'), /em dash/],
      [withSignatureBytes(note, () => '!!!!'), /base64/],
      [withSignatureBytes(note, (b) => b.toString('base64').replace(/=+$/, '')), /base64/],
      [withSignatureBytes(note, () => 'AAAA'), /shorter/],
      [note.slice(0, -1), /newline/],
      [`${TEXT}\n`, /no signature lines/],
      [note.replace(ORIGIN, 'bad+name').replace(ORIGIN, 'bad+name'), /key name/],
      [note.replace(`\u2014 ${ORIGIN} `, `\u2014 ${ORIGIN}`), /no space|base64/],
      [note.replace('\n5\n', '\n5\r\n'), /control character/],
      [note.replace('writ', '\uD800writ'), /surrogate/],
      [`${TEXT}\n${signatureLine(signer.sign(TEXT)).repeat(101)}`, /more than the 100/],
      [`${'x'.repeat(1 << 20)}\n${note}`, /larger than/],
    ];
    for (const [bad, pattern] of cases) assert.throws(() => parseNote(bad), proofInvalid(pattern), JSON.stringify(bad.slice(-120)));
  });

  it('separate the text from the signatures at the last blank line, which the text itself may contain', () => {
    const text = 'first paragraph\n\nsecond paragraph\n';
    const parsed = parseNote(signer.signNote(text));
    assert.equal(parsed.text, text);
    assert.equal(parsed.signatures.length, 1);
  });

  it('are not formatted from text without a final newline or without signatures', () => {
    assert.throws(() => formatNote('no newline', [signer.sign(TEXT)]), isProofInvalid);
    assert.throws(() => formatNote(TEXT, []), isProofInvalid);
    assert.throws(() => signer.sign('no newline'), WritError);
  });
});

describe('verifier keys', () => {
  it('round-trip through formatVerifierKey and parseVerifierKey for both signature types', () => {
    const pub = publicKeyFromPem(log.pem);
    for (const type of [1, SIG_TYPE_COSIGNATURE]) {
      const key = parseVerifierKey(formatVerifierKey('example.com/k', pub, type));
      assert.deepEqual(key, { name: 'example.com/k', keyId: keyIdOf('example.com/k', type, pub), type, publicKey: pub });
    }
  });

  it('parse the published keys of other implementations, whose key material may contain "+"', () => {
    // transparency-dev/formats note/note_cosigv1_test.go (v0.1.1): an Ed25519 key whose base64 holds a "+",
    // and a witness's Ed25519 cosignature key (type 0x04).
    const plus = parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6');
    assert.deepEqual([plus.name, plus.type, plus.publicKey.length], ['TEST', 1, 32]);
    assert.equal(formatVerifierKey(plus.name, plus.publicKey), 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6');
    const cosigner = parseVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2');
    assert.deepEqual([cosigner.name, cosigner.type], ['remora.n621.de', SIG_TYPE_COSIGNATURE]);
  });

  it('reject malformed keys, naming the problem', () => {
    const good = signer.vkey;
    const [name, hex, ...rest] = good.split('+');
    const b64 = rest.join('+');
    const material = Buffer.from(b64, 'base64');
    const cases: Array<[string, RegExp]> = [
      [`${name}+${hex}`, /name\+keyid\+key/],
      [name, /name\+keyid\+key/],
      [`${good}+extra`, /base64/],
      [`+${hex}+${b64}`, /invalid key name/],
      [`a b+${hex}+${b64}`, /invalid key name/],
      [`${name}+${hex.toUpperCase()}+${b64}`, /8 lowercase hex/],
      [`${name}+${hex.slice(1)}+${b64}`, /8 lowercase hex/],
      [`${name}+00000000+${b64}`, /does not match/],
      [`${name}+${hex}+${b64.slice(0, -1)}`, /base64/],
      [`${name}+${hex}+${b64} `, /base64/],
      [`${name}+${hex}+${b64.replace(/[A-Za-z0-9+/]$/, '-')}`, /base64/],
      [`${name}+${hex}+`, /no key material/],
      [`${name}+${hex}+${Buffer.concat([Buffer.of(2), material.subarray(1)]).toString('base64')}`, /unsupported signature type 0x02/],
      [`${name}+${hex}+${material.subarray(0, 32).toString('base64')}`, /32 bytes/],
    ];
    for (const [bad, pattern] of cases) assert.throws(() => parseVerifierKey(bad), proofInvalid(pattern), bad);
  });

  it('are refused by verifyNote when they are cosignature keys', async () => {
    const witness = new CosignatureSigner('witness.example/w1', newKey().pem);
    await assert.rejects(verifyNote(signer.signNote(TEXT), [witness.verifierKey]), proofInvalid(/verifyCosignature/));
  });
});

describe('cosignatures (C2SP tlog-cosignature, Ed25519)', () => {
  const wkey = newKey();
  const witness = new CosignatureSigner('witness.example/w1', wkey.pem);
  const TIME = 1_700_000_000;

  it('verify after CosignatureSigner signed, and give back the timestamp', async () => {
    const sig = witness.cosign(TEXT, TIME);
    assert.deepEqual(await verifyCosignature(sig, witness.verifierKey, TEXT), { timestamp: TIME });
    assert.deepEqual(await verifyCosignature(sig, parseVerifierKey(witness.vkey), TEXT), { timestamp: TIME });
  });

  it('sign the message "cosignature/v1", "time <t>", then the checkpoint text, as node:crypto confirms independently', () => {
    const sig = witness.cosign(TEXT, TIME);
    const message = Buffer.from(`cosignature/v1\ntime ${TIME}\n${TEXT}`, 'utf8');
    assert.deepEqual(cosignatureMessage(TIME, TEXT), new Uint8Array(message));
    assert.equal(sig.signature.length, 72);
    assert.equal(Buffer.from(sig.signature).readBigUInt64BE(0), BigInt(TIME));
    assert.ok(verify(null, message, wkey.publicKey, Buffer.from(sig.signature.subarray(8))));
    const keyId = createHash('sha256').update('witness.example/w1\n').update(Uint8Array.of(4)).update(rawKey(wkey.publicKey)).digest().subarray(0, 4);
    assert.deepEqual(Buffer.from(sig.keyId), keyId);
    const [name, hex, ...material] = witness.vkey.split('+');
    assert.deepEqual([name, hex], ['witness.example/w1', keyId.toString('hex')]);
    assert.deepEqual(Buffer.from(material.join('+'), 'base64'), Buffer.concat([Buffer.of(4), rawKey(wkey.publicKey)]));
  });

  it('fail with another witness key, another checkpoint, a changed timestamp or a log key', async () => {
    const sig = witness.cosign(TEXT, TIME);
    const other = new CosignatureSigner('witness.example/w1', newKey().pem);
    await assert.rejects(verifyCosignature(sig, other.verifierKey, TEXT), proofInvalid(/not from witness key/));
    await assert.rejects(verifyCosignature(sig, witness.verifierKey, TEXT.replace('\n5\n', '\n6\n')), proofInvalid(/does not verify/));
    const later: NoteSignature = { ...sig, signature: sig.signature.slice() };
    later.signature[7] ^= 1;
    await assert.rejects(verifyCosignature(later, witness.verifierKey, TEXT), proofInvalid(/does not verify/));
    await assert.rejects(verifyCosignature(sig, signer.verifierKey, TEXT), proofInvalid(/not 0x04/));
    await assert.rejects(verifyCosignature({ ...sig, signature: sig.signature.subarray(0, 64) }, witness.verifierKey, TEXT), proofInvalid(/8 \+ 64/));
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  it('round-trip through formatCheckpoint and parseCheckpoint, from the text or from the signed note', () => {
    const c = { origin: ORIGIN, size: 123456, root: sha256(new Uint8Array(0)), extensions: ['ext one'] };
    const text = formatCheckpoint(c);
    assert.equal(text, `${ORIGIN}\n123456\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\n`);
    assert.deepEqual(parseCheckpoint(text), c);
    assert.deepEqual(parseCheckpoint(signer.signNote(text)), c);
  });

  it('reject malformed checkpoint text, naming the problem', () => {
    const root = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    const cases: Array<[string, RegExp]> = [
      [`${ORIGIN}\n5\n${root}`, /end with a newline/],
      [`${ORIGIN}\n5\n`, /at least 3 lines/],
      [`\n5\n${root}\n`, /origin line is empty/],
      [`${ORIGIN}\n05\n${root}\n`, /leading zeroes/],
      [`${ORIGIN}\n-1\n${root}\n`, /decimal/],
      [`${ORIGIN}\n 5\n${root}\n`, /decimal/],
      [`${ORIGIN}\n9007199254740992\n${root}\n`, /2\^53/],
      [`${ORIGIN}\n5\n${root.slice(4)}\n`, /bytes instead of 32/],
      [`${ORIGIN}\n5\n${root.replace('=', '')}\n`, /base64/],
      [`${ORIGIN}\n5\n${root}\n\n`, /./],
      [`${ORIGIN}\n5\n${root}\r\n`, /base64|control/],
    ];
    for (const [bad, pattern] of cases) assert.throws(() => parseCheckpoint(bad), proofInvalid(pattern), JSON.stringify(bad));
    assert.deepEqual(parseCheckpoint(`${ORIGIN}\n0\n${root}\n`).size, 0);
  });
});
