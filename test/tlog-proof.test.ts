import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { WritError } from '../src/core/errors.js';
import { toBase64 } from '../src/core/tlog/base64.js';
import { formatCheckpoint } from '../src/core/tlog/checkpoint.js';
import { pureHasher } from '../src/core/tlog/hasher.js';
import { MemoryTree } from '../src/core/tlog/merkle.js';
import { formatNote } from '../src/core/tlog/note.js';
import { formatTlogProof, parseTlogProof, verifyTlogProof, type TlogProof } from '../src/core/tlog/tlog-proof.js';
import { nodeHasher } from '../src/ledger/node-hasher.js';
import { CosignatureSigner, NoteSigner } from '../src/ledger/note-signer.js';

const isProofInvalid = (err: unknown): boolean => err instanceof WritError && err.code === 'PROOF_INVALID';
const proofInvalid = (pattern: RegExp) => (err: unknown): boolean => isProofInvalid(err) && pattern.test((err as Error).message);
const pem = (): string => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const ORIGIN = 'writ.example/acme/orders';
const log = new NoteSigner(ORIGIN, pem());
const w1 = new CosignatureSigner('witness.example/w1', pem());
const w2 = new CosignatureSigner('witness.example/w2', pem());
const TIME = 1_760_000_000;

/** Real leaf bytes: small JSON records, as the ledger writes them. */
const LEAVES = Array.from({ length: 21 }, (_, i) => new TextEncoder().encode(JSON.stringify({ v: 1, index: i, action: 'orders.Create' })));
const TREE = new MemoryTree(LEAVES.map((leaf) => pureHasher.leaf(leaf)));
const TEXT = formatCheckpoint({ origin: ORIGIN, size: LEAVES.length, root: TREE.root(), extensions: [] });
/** The checkpoint signed by the log and cosigned by both witnesses. */
const CHECKPOINT = formatNote(TEXT, [log.sign(TEXT), w1.cosign(TEXT, TIME), w2.cosign(TEXT, TIME + 1)]);

function receipt(index: number, options: { checkpoint?: string; extra?: Uint8Array | null } = {}): string {
  const extra = options.extra === undefined ? LEAVES[index] : options.extra;
  return formatTlogProof({ extra, index, proof: TREE.inclusionProof(index, LEAVES.length), checkpoint: options.checkpoint ?? CHECKPOINT });
}

describe('tlog proofs (C2SP tlog-proof)', () => {
  it('round-trip through formatTlogProof and parseTlogProof, with and without extra data', () => {
    for (const extra of [LEAVES[3], new Uint8Array(0), null]) {
      const p: TlogProof = { extra, index: 3, proof: TREE.inclusionProof(3, LEAVES.length), checkpoint: CHECKPOINT };
      const text = formatTlogProof(p);
      assert.deepEqual(parseTlogProof(text), p);
      assert.equal(formatTlogProof(parseTlogProof(text)), text);
    }
  });

  it('have the shape of the C2SP example: header, extra, index, proof hashes, blank line, signed checkpoint', () => {
    const text = receipt(7);
    const proof = TREE.inclusionProof(7, LEAVES.length);
    assert.equal(
      text,
      ['c2sp.org/tlog-proof@v1', `extra ${toBase64(LEAVES[7])}`, 'index 7', ...proof.map(toBase64), '', CHECKPOINT].join('\n'),
    );
    const withoutExtra = receipt(7, { extra: null });
    assert.equal(withoutExtra, ['c2sp.org/tlog-proof@v1', 'index 7', ...proof.map(toBase64), '', CHECKPOINT].join('\n'));
    assert.equal(parseTlogProof(withoutExtra).extra, null);
  });

  it('reject malformed proofs, naming the problem', () => {
    const good = receipt(5);
    const [header, extra, index, first] = good.split('\n');
    const hash = toBase64(new Uint8Array(32));
    const cases: Array<[string, RegExp]> = [
      [good.replace(header, 'c2sp.org/tlog-proof@v2'), /first line/],
      [`\n${good}`, /first line/],
      [good.replace(`${header}\n`, `${header}\r\n`), /first line/],
      [good.replace(index, 'index 05'), /leading zeroes/],
      [good.replace(index, 'index -5'), /decimal/],
      [good.replace(index, 'index  5'), /decimal/],
      [good.replace(index, 'index 9007199254740993'), /2\^53/],
      [good.replace(index, 'Index 5'), /index/],
      [good.replace(`${extra}\n${index}`, `${index}\n${extra}`), /base64/],
      [good.replace(extra, 'extra !!'), /extra data is not canonical base64/],
      [good.replace(`${first}\n`, `${first.slice(4)}\n`), /bytes instead of 32/],
      [good.replace(`${first}\n`, `${first} \n`), /base64/],
      [good.replace(`\n\n${CHECKPOINT}`, `\n${CHECKPOINT}`), /base64|bytes instead/],
      [good.replace(`\n\n${CHECKPOINT}`, '\n'), /ends before/],
      [`${header}\n${index}\n${`${hash}\n`.repeat(64)}\n${CHECKPOINT}`, /more than 63/],
      [good.replace(CHECKPOINT, TEXT), /blank line/],
      [good.replace(CHECKPOINT, CHECKPOINT.replace(`\n${LEAVES.length}\n`, '\nmany\n')), /tree size/],
      [good.slice(0, -1), /newline/],
      ['', /ends before/],
      [`${good}x`.repeat(2) + 'x'.repeat(1 << 21), /larger than/],
    ];
    for (const [bad, pattern] of cases) assert.throws(() => parseTlogProof(bad), proofInvalid(pattern), JSON.stringify(bad.slice(0, 200)));
    assert.equal(parseTlogProof(`${header}\n${index}\n${`${hash}\n`.repeat(63)}\n${CHECKPOINT}`).proof.length, 63);
  });
});

describe('verifyTlogProof', () => {
  const witnesses = [w1.verifierKey, w2.verifierKey];

  it('proves every leaf of a real tree, end to end, with both witnesses, with either hasher', async () => {
    for (let index = 0; index < LEAVES.length; index++) {
      const result = await verifyTlogProof(receipt(index), log.verifierKey, { witnesses, witnessQuorum: 2, origin: ORIGIN, hasher: index % 2 ? nodeHasher : undefined });
      assert.equal(result.index, index);
      assert.deepEqual(result.leaf, LEAVES[index]);
      assert.deepEqual(result.checkpoint, { origin: ORIGIN, size: LEAVES.length, root: TREE.root(), extensions: [] });
      assert.deepEqual(result.cosigners, ['witness.example/w1', 'witness.example/w2']);
    }
  });

  it('accepts a checkpoint without cosignatures when no witness is required', async () => {
    const result = await verifyTlogProof(receipt(0, { checkpoint: log.signNote(TEXT) }), log.verifierKey);
    assert.deepEqual(result.cosigners, []);
  });

  it('fails with another log key', async () => {
    const other = new NoteSigner(ORIGIN, pem());
    await assert.rejects(verifyTlogProof(receipt(2), other.verifierKey), proofInvalid(/not signed by any trusted key/));
  });

  it('fails when the extra data, the index or the proof was tampered with', async () => {
    const tamperedLeaf = LEAVES[4].slice();
    tamperedLeaf[10] ^= 1;
    await assert.rejects(verifyTlogProof(receipt(4, { extra: tamperedLeaf }), log.verifierKey), proofInvalid(/does not lead to the root/));
    await assert.rejects(verifyTlogProof(receipt(4).replace('\nindex 4\n', '\nindex 5\n'), log.verifierKey), proofInvalid(/does not lead to the root/));
    await assert.rejects(verifyTlogProof(receipt(4).replace('\nindex 4\n', `\nindex ${LEAVES.length}\n`), log.verifierKey), proofInvalid(/not below the tree size/));
    await assert.rejects(verifyTlogProof(receipt(4, { extra: LEAVES[9] }), log.verifierKey), proofInvalid(/does not lead to the root/));
  });

  it('fails without extra data, for the leaf is needed', async () => {
    await assert.rejects(verifyTlogProof(receipt(4, { extra: null }), log.verifierKey), proofInvalid(/no extra line/));
  });

  it('fails when the checkpoint text was changed after signing', async () => {
    const forged = CHECKPOINT.replace(`\n${LEAVES.length}\n`, `\n${LEAVES.length + 1}\n`);
    await assert.rejects(verifyTlogProof(receipt(4, { checkpoint: forged }), log.verifierKey), proofInvalid(/does not verify/));
  });

  it('fails when the witness quorum is not met, or a trusted witness cosignature is bad', async () => {
    const onlyW1 = formatNote(TEXT, [log.sign(TEXT), w1.cosign(TEXT, TIME)]);
    await assert.rejects(verifyTlogProof(receipt(1, { checkpoint: onlyW1 }), log.verifierKey, { witnesses }), proofInvalid(/1 valid cosignatures.*2 required/));
    const result = await verifyTlogProof(receipt(1, { checkpoint: onlyW1 }), log.verifierKey, { witnesses, witnessQuorum: 1 });
    assert.deepEqual(result.cosigners, ['witness.example/w1']);

    const stranger = new CosignatureSigner('witness.example/w2', pem());
    const byStranger = formatNote(TEXT, [log.sign(TEXT), stranger.cosign(TEXT, TIME)]);
    await assert.rejects(verifyTlogProof(receipt(1, { checkpoint: byStranger }), log.verifierKey, { witnesses, witnessQuorum: 1 }), proofInvalid(/0 valid cosignatures/));

    const badTime = w1.cosign(TEXT, TIME);
    badTime.signature[7] ^= 1;
    const tampered = formatNote(TEXT, [log.sign(TEXT), badTime, w2.cosign(TEXT, TIME)]);
    await assert.rejects(verifyTlogProof(receipt(1, { checkpoint: tampered }), log.verifierKey, { witnesses, witnessQuorum: 1 }), proofInvalid(/cosignature by witness.example\/w1 does not verify/));

    await assert.rejects(verifyTlogProof(receipt(1), log.verifierKey, { witnesses, witnessQuorum: 3 }), proofInvalid(/cannot be met/));
  });

  it('fails for a checkpoint of another origin when the origin is pinned', async () => {
    await assert.rejects(verifyTlogProof(receipt(1), log.verifierKey, { origin: 'writ.example/acme/invoices' }), proofInvalid(/not "writ.example\/acme\/invoices"/));
  });
});
