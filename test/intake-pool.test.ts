import { strict as assert } from 'node:assert';
import { createHash, createPublicKey } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { WritError } from '../src/core/errors.js';
import { intake } from '../src/pipeline/intake/intake.js';
import { IntakePool, packBodies, unpackBodies } from '../src/pipeline/intake/intake-pool.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { newSigner } from './support/harness.js';
import { identityHint, requestIdHint } from '../src/pipeline/intake/identity-hint.js';

const limits = { maxBytes: 256 * 1024, maxDepth: 32 };

describe('the intake pool', () => {
  // Bodies whose requestId ends in "-retry" count as likely retries here.
  const pool = new IntakePool(1, limits, (b) => /-retry"/.test(Buffer.from(b).toString()));
  after(() => pool.close());
  const signer = newSigner('alice#1');
  const spki = createPublicKey(signer.publicPem).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(spki).digest('hex');
  const body = () => Buffer.from(JSON.stringify(signEnvelope({ action: 'UpsertProduct', payload: { sku: 's' } }, signer, { tenant: 't' }).envelope));

  it('packs and unpacks bodies without changing a byte', () => {
    const jobs = [
      { id: 1, bearer: false, skipVerify: false, body: Buffer.from('{"a":1}') },
      { id: 2, bearer: true, skipVerify: true, body: Buffer.alloc(0) },
      { id: 4294967295, bearer: false, skipVerify: true, body: Buffer.from('é'.repeat(300)) },
    ];
    assert.deepEqual(unpackBodies(packBodies(jobs)).map((j) => ({ ...j, body: Buffer.from(j.body) })), jobs);
  });

  it('gives the same canonical bytes and commandHash as intake on the event loop', async () => {
    const b = body();
    const inline = intake({ body: b, receivedAt: 0 }, limits);
    const pooled = await pool.prepare({ body: b, receivedAt: 0 });
    assert.equal(pooled.commandHash, inline.commandHash);
    assert.ok(Buffer.isBuffer(pooled.canonical));
    assert.deepEqual(pooled.canonical, inline.canonical);
    assert.deepEqual(pooled.envelope, inline.envelope);
    assert.equal(pooled.verified, undefined, 'no verdict without the key');
  });

  it('refuses bad bodies with the same typed error', async () => {
    await assert.rejects(pool.prepare({ body: Buffer.from('{"v":1,"v":1}'), receivedAt: 0 }), (e: unknown) => e instanceof WritError && e.code === 'INVALID_ENVELOPE' && /duplicate key/.test(e.message));
  });

  it('reads identity fields from raw bytes as a hint only', () => {
    const b = body();
    const e = JSON.parse(b.toString());
    assert.deepEqual(identityHint(b), { tenant: 't', actor: 'alice', requestId: e.requestId });
    assert.equal(identityHint(Buffer.from('{"requestId":"abcdefgh"}')), undefined);
    assert.equal(requestIdHint(Buffer.from('{"requestId":"abcdefgh"}')), 'abcdefgh');
    assert.equal(requestIdHint(Buffer.from('not json')), null);
  });

  it('checks the signature when it knows the key, and says with which key bytes', async () => {
    pool.setKeys([{ tenant: 't', keyId: 'alice#1', alg: 'ed25519', spki, digest }]);
    const good = await pool.prepare({ body: body(), receivedAt: 0 });
    assert.deepEqual(good.verified, { keyDigest: digest, ok: true });
    const forged = JSON.parse(body().toString());
    forged.payload.sku = 'other';
    const bad = await pool.prepare({ body: Buffer.from(JSON.stringify(forged)), receivedAt: 0 });
    assert.deepEqual(bad.verified, { keyDigest: digest, ok: false });
  });

  it('skips the signature check for a likely retry, leaving it to authenticate', async () => {
    const retry = Buffer.from(JSON.stringify(signEnvelope({ action: 'UpsertProduct', requestId: 'req-0001-retry', payload: { sku: 's' } }, signer, { tenant: 't' }).envelope));
    const prepared = await pool.prepare({ body: retry, receivedAt: 0 });
    assert.equal(prepared.verified, undefined);
    assert.equal(prepared.envelope.requestId, 'req-0001-retry');
  });
});
