import { strict as assert } from 'node:assert';
import { createPublicKey, verify as rawVerify, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import {
  fromBase64,
  parseCheckpoint,
  parseNote,
  parseTlogProof,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyTlogProof,
} from '../src/core/tlog/index.js';
import { startHarness, rid, type Harness } from './support/harness.js';

const product = (i: number) => ({ sku: `sku-${i}`, name: `Product ${i}`, price: { amount: 100 + i, currency: 'EUR' } });

async function submit(h: Harness, n: number, from = 0): Promise<Array<{ requestId: string; commandHash: string; index: number }>> {
  const out = [];
  for (let i = from; i < from + n; i++) {
    const requestId = rid();
    const r = await h.post(h.sign('UpsertProduct', product(i), { requestId }));
    assert.equal(r.status, 200, r.raw);
    out.push({ requestId, commandHash: r.body.commandHash as string, index: r.body.receipt.index as number });
  }
  return out;
}

async function text(h: Harness, method: 'GET' | 'POST', url: string) {
  // As the admin: the log's routes are public, but a checkpoint on demand is an operator's.
  const res = await h.app.inject({ method, url, headers: { authorization: h.readAuth(method, url) } });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: res.body, raw: res.rawPayload };
}

describeEachBackend('verifiable ledger over HTTP', (backend) => {
  let h: Harness;
  let vkey: string;
  let sent: Array<{ requestId: string; commandHash: string; index: number }>;

  before(async () => {
    // A long interval: checkpoints come only when asked for, so the test decides the sizes.
    h = await startHarness({ ledger: { checkpointIntervalMs: 3_600_000 }, limits: { rate: 100_000 } } as never, { backend });
    sent = await submit(h, 300);
    vkey = (await h.get('/v1/logs')).body.verifierKey;
  });
  after(() => h.close());

  it('answers RECEIPT_PENDING until a checkpoint covers the record, then a receipt', async () => {
    const pending = await h.get(`/v1/receipts/${h.tenant}/${sent[0].requestId}`);
    assert.equal(pending.status, 409);
    assert.equal(pending.body.code, 'RECEIPT_PENDING');
    const waited = await text(h, 'GET', `/v1/receipts/${h.tenant}/${sent[0].requestId}?wait=true`);
    assert.equal(waited.status, 200, waited.body);
    assert.match(waited.type, /^text\/x\.tlog-proof/);
  });

  it('signs checkpoints on demand that an independent Ed25519 check accepts', async () => {
    const res = await text(h, 'POST', `/v1/logs/${h.tenant}/commerce/checkpoint`);
    assert.equal(res.status, 200, res.body);
    const note = parseNote(res.body);
    const cp = parseCheckpoint(note.text);
    assert.equal(cp.origin, `writ.local/${h.tenant}/commerce`);
    assert.equal(cp.size, 300);
    // Independently of the code under test: key id and signature by hand with node:crypto.
    // Split at the first two '+' only: the base64 key may contain '+' too.
    const [name, hexId] = vkey.split('+');
    const b64 = vkey.slice(name.length + hexId.length + 2);
    const keyBytes = Buffer.from(b64, 'base64');
    assert.equal(keyBytes[0], 1);
    const expectedId = createHash('sha256').update(Buffer.concat([Buffer.from(name + '\n'), keyBytes])).digest().subarray(0, 4);
    assert.equal(expectedId.toString('hex'), hexId);
    const line = res.body.split('\n\n')[1].split('\n')[0];
    assert.ok(line.startsWith(`\u2014 ${name} `));
    const sigBytes = Buffer.from(line.split(' ')[2], 'base64');
    assert.deepEqual(sigBytes.subarray(0, 4), expectedId);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), keyBytes.subarray(1)]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.ok(rawVerify(null, Buffer.from(note.text), pub, sigBytes.subarray(4)));
    assert.ok(!rawVerify(null, Buffer.from(note.text.replace('300', '301')), pub, sigBytes.subarray(4)));
  });

  it('serves receipts that verify offline with only the verifier key and name the command', async () => {
    const key = parseVerifierKey(vkey);
    for (const s of [sent[0], sent[1], sent[255], sent[256], sent[299]]) {
      const res = await text(h, 'GET', `/v1/receipts/${h.tenant}/${s.requestId}`);
      assert.equal(res.status, 200, res.body);
      const proved = await verifyTlogProof(res.body, key);
      assert.equal(proved.index, s.index);
      const record = JSON.parse(Buffer.from(proved.leaf).toString('utf8'));
      assert.equal(record.commandHash, s.commandHash);
      assert.equal(record.requestId, s.requestId);
      // The same receipt by position.
      const byIndex = await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/receipts/${s.index}`);
      assert.equal(byIndex.body, res.body);
      // Flipping one bit of the leaf breaks it.
      const p = parseTlogProof(res.body);
      const bad = res.body.replace(/^extra (\S+)$/m, (_, b) => {
        const bytes = Buffer.from(b, 'base64');
        bytes[10] ^= 1;
        return `extra ${bytes.toString('base64')}`;
      });
      assert.ok(p.extra);
      await assert.rejects(verifyTlogProof(bad, key), /PROOF_INVALID|does not verify|inclusion/i);
    }
  });

  it('serves C2SP hash tiles and entry bundles that match the records', async () => {
    const full = await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/0/000`);
    assert.equal(full.status, 200);
    assert.equal(full.raw.length, 256 * 32);
    const bundle = await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/entries/000`);
    assert.equal(bundle.status, 200);
    let off = 0;
    for (let i = 0; i < 256; i++) {
      const len = bundle.raw.readUInt16BE(off);
      const leaf = bundle.raw.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      const lh = createHash('sha256').update(Buffer.from([0])).update(leaf).digest();
      assert.deepEqual(lh, full.raw.subarray(i * 32, i * 32 + 32), `entry ${i}`);
    }
    assert.equal(off, bundle.raw.length);
    const partial = await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/0/001.p/44`);
    assert.equal(partial.status, 200);
    assert.equal(partial.raw.length, 44 * 32);
    const level1 = await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/1/000.p/1`);
    assert.equal(level1.status, 200);
    assert.equal((await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/0/001.p/45`)).status, 404);
    assert.equal((await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/0/001`)).status, 404);
    assert.equal((await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/tile/0/1`)).status, 404);
  });

  it('serves inclusion and consistency proofs that verify against signed roots, across a restart', async () => {
    const first = parseCheckpoint((await text(h, 'GET', `/v1/logs/${h.tenant}/commerce/checkpoint`)).body);
    await h.restart();
    await submit(h, 37, 300);
    const second = parseCheckpoint((await text(h, 'POST', `/v1/logs/${h.tenant}/commerce/checkpoint`)).body);
    assert.equal(second.size, 337);
    const cons = await h.get(`/v1/logs/${h.tenant}/commerce/proof/consistency?from=${first.size}&to=${second.size}`);
    assert.equal(cons.status, 200);
    verifyConsistency(first.size, second.size, first.root, second.root, cons.body.hashes.map(fromBase64));
    const leaves = await h.get(`/v1/ledger/${h.tenant}/commerce/records?from=123&limit=1`);
    const leafHash = fromBase64(Buffer.from(leaves.body.records[0].leafHash, 'hex').toString('base64'));
    const inc = await h.get(`/v1/logs/${h.tenant}/commerce/proof/inclusion?index=123&size=${second.size}`);
    verifyInclusion(123, second.size, leafHash, inc.body.hashes.map(fromBase64), second.root);
    assert.equal((await h.get(`/v1/logs/${h.tenant}/commerce/proof/inclusion?index=5&size=999999`)).status, 404);
    assert.equal((await h.get(`/v1/logs/${h.tenant}/commerce/proof/consistency?from=9&to=3`)).status, 400);
    assert.equal((await h.get(`/v1/logs/${h.tenant}/commerce/proof/inclusion?index=01`)).status, 400);
  });

  it('lists logs with sizes, the verifier key and anchor status', async () => {
    const logs = (await h.get('/v1/logs')).body;
    const commerce = logs.logs.find((l: any) => l.scroll === 'commerce');
    assert.equal(commerce.checkpointSize, 337);
    assert.equal(commerce.problem, null);
    assert.ok(logs.anchors.some((a: any) => a.kind === 'ndjson'));
  });
});

describeEachBackend('checkpoints in the background', (backend) => {
  it('covers new records within the interval without being asked', async () => {
    const h = await startHarness({ ledger: { checkpointIntervalMs: 50 } } as never, { backend });
    try {
      const [s] = await submit(h, 1);
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await h.get(`/v1/receipts/${h.tenant}/${s.requestId}`)).status;
      }
      assert.equal(status, 200);
    } finally {
      await h.close();
    }
  });
});
