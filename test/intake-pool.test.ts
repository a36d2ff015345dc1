import { strict as assert } from 'node:assert';
import { createHash, createPublicKey } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { WritError } from '../src/core/errors.js';
import { intake } from '../src/pipeline/intake/intake.js';
import { IntakePool, packBodies, unpackBodies } from '../src/pipeline/intake/intake-pool.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { newSigner } from './support/harness.js';

const limits = { maxBytes: 256 * 1024, maxDepth: 32 };

describe('the intake pool', () => {
  const pool = new IntakePool(1, limits);
  after(() => pool.close());
  const signer = newSigner('alice#1');
  const spki = createPublicKey(signer.publicPem).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(spki).digest('hex');
  const body = () => Buffer.from(JSON.stringify(signEnvelope({ action: 'UpsertProduct', payload: { sku: 's' } }, signer, { tenant: 't' }).envelope));

  it('packs and unpacks bodies without changing a byte', () => {
    const jobs = [
      { id: 1, bearer: false, body: Buffer.from('{"a":1}') },
      { id: 2, bearer: true, body: Buffer.alloc(0) },
      { id: 4294967295, bearer: false, body: Buffer.from('é'.repeat(300)) },
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

  it('checks the signature when it knows the key, and says with which key bytes', async () => {
    pool.setKeys([{ tenant: 't', keyId: 'alice#1', alg: 'ed25519', spki, digest }]);
    const good = await pool.prepare({ body: body(), receivedAt: 0 });
    assert.deepEqual(good.verified, { keyDigest: digest, ok: true });
    const forged = JSON.parse(body().toString());
    forged.payload.sku = 'other';
    const bad = await pool.prepare({ body: Buffer.from(JSON.stringify(forged)), receivedAt: 0 });
    assert.deepEqual(bad.verified, { keyDigest: digest, ok: false });
  });
});
