import { strict as assert } from 'node:assert';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { SignJWT, UnsecuredJWT } from 'jose';
import { WritClient } from '../src/sdk/client.js';
import type { Signer } from '../src/sdk/sign.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, assignRole, hmacSigner, ledgerSize, leavesFor, product, registerKey, tempDir, writeSecret } from './support/stage-helpers.js';

/**
 * Authenticate (DESIGN §2): an envelope signature checked against the key registry, or a bearer
 * token whose claims fill missing identity fields. Failures here are answered, never stored.
 */

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Runs `fn` and asserts that it left no ledger record behind. */
/**
 * Registers a key whose notAfter is a second away (a key already expired is refused at registration)
 * and waits until it has passed.
 */
async function registerExpiring(h: Harness, actor: string, signer: Signer & { publicPem: string }, roles: readonly string[] = []): Promise<void> {
  const notAfter = Date.now() + 1000;
  await registerKey(h, actor, signer, { notAfter: iso(notAfter) }, roles);
  await new Promise((r) => setTimeout(r, Math.max(0, notAfter - Date.now() + 50)));
}

async function leavesNoRecord(h: Harness, fn: () => Promise<void>): Promise<void> {
  const size = await ledgerSize(h);
  const counted = h.writ.pipeline.counters.unauthenticated;
  await fn();
  assert.equal(await ledgerSize(h), size, 'an unauthenticated failure wrote a ledger record');
  assert.ok(h.writ.pipeline.counters.unauthenticated > counted, 'the failure was not counted');
}

describeEachBackend('authenticate with envelope signatures', (backend) => {
  const dir = tempDir();
  const mac = writeSecret(dir, 'mac.secret');
  let h: Harness;
  let client: WritClient;
  let ed: Signer;
  const es = newSigner('es#1', 'es256');
  const macSigner = hmacSigner('mac#1', mac.secret);

  before(async () => {
    h = await startHarness({ auth: { hmacKeys: [{ tenant: 'default', actor: 'mac', keyId: 'mac#1', secretFile: mac.file }] } }, { backend });
    client = new WritClient(await h.listen(), h.reader);
    ed = await h.actor('ed', ['editor']);
    await registerKey(h, 'es', es, {}, ['editor']);
    await assignRole(h, 'mac', 'editor');
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an ed25519 signature by a registered key', async () => {
    const env = h.sign('UpsertProduct', product('sig-ed'), {}, ed);
    assertOk(await h.post(env));
    const [record] = await leavesFor(h, 'commerce', env.requestId);
    assert.equal(record.actor, 'ed');
    assert.equal(record.outcome, 'OK');
  });

  it('accepts an es256 signature by a registered key', async () => {
    const env = h.sign('UpsertProduct', product('sig-es'), {}, es);
    assert.equal(env.signature.alg, 'es256');
    assertOk(await h.post(env));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/sig-es`)).body.updatedBy, 'es');
  });

  it('accepts an hs256 signature by a key configured in auth.hmacKeys', async () => {
    const env = h.sign('UpsertProduct', product('sig-mac'), {}, macSigner);
    assert.equal(env.signature.alg, 'hs256');
    assertOk(await h.post(env));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/sig-mac`)).body.updatedBy, 'mac');
  });

  it('accepts all three algorithms over a real socket', async () => {
    for (const [signer, sku] of [[ed, 'sock-ed'], [es, 'sock-es'], [macSigner, 'sock-mac']] as const) {
      const res = await client.submit(h.sign('UpsertProduct', product(sku), {}, signer));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'OK');
    }
  });

  it('rejects a tampered payload with BAD_SIGNATURE 401', async () => {
    const env = h.sign('UpsertProduct', product('tampered'), {}, ed);
    env.payload.price = { amount: 1, currency: 'EUR' };
    await leavesNoRecord(h, async () => assertError(await h.post(env), 'BAD_SIGNATURE'));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/tampered`)).status, 404);
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'ed', env.requestId), null);
  });

  it('rejects tampered signature bytes with BAD_SIGNATURE 401', async () => {
    for (const signer of [ed, es, macSigner]) {
      const env = h.sign('UpsertProduct', product('flipped'), {}, signer);
      const sig = Buffer.from(env.signature.sig, 'base64');
      sig[5] ^= 0x01;
      env.signature.sig = sig.toString('base64');
      await leavesNoRecord(h, async () => assertError(await h.post(env), 'BAD_SIGNATURE', signer.keyId));
    }
  });

  it('rejects a signature that names the wrong algorithm for its key with BAD_SIGNATURE 401', async () => {
    const env = h.sign('UpsertProduct', product('wrong-alg'), {}, ed);
    env.signature.alg = 'es256';
    await leavesNoRecord(h, async () => assertError(await h.post(env), 'BAD_SIGNATURE'));
    const mac256 = h.sign('UpsertProduct', product('wrong-alg'), {}, macSigner);
    mac256.signature.alg = 'ed25519';
    assertError(await h.post(mac256), 'BAD_SIGNATURE');
  });

  it('rejects a signature made with another key under a registered keyId with BAD_SIGNATURE 401', async () => {
    const impostor = newSigner('ed#1');
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('impostor'), {}, impostor)), 'BAD_SIGNATURE'));
    const wrongSecret = hmacSigner('mac#1', randomBytes(32));
    assertError(await h.post(h.sign('UpsertProduct', product('impostor'), {}, wrongSecret)), 'BAD_SIGNATURE');
  });

  it('rejects an unregistered keyId with UNKNOWN_KEY 401', async () => {
    const ghost = newSigner('ghost#1');
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('ghost'), {}, ghost)), 'UNKNOWN_KEY'));
  });

  it("rejects another actor's key with UNKNOWN_KEY 401", async () => {
    const env = h.sign('UpsertProduct', product('borrowed'), { actor: 'es' }, ed);
    await leavesNoRecord(h, async () => assertError(await h.post(env), 'UNKNOWN_KEY'));
    assert.equal(await h.writ.store.getOutcome(h.tenant, 'es', env.requestId), null);
  });

  it("rejects a key registered in another tenant with UNKNOWN_KEY 401", async () => {
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('elsewhere'), { tenant: 'other' }, ed)), 'UNKNOWN_KEY'));
  });

  it('rejects a key after writ.RevokeKey with KEY_REVOKED 401, yet replays what it signed before', async () => {
    const rv = await h.actor('rv', ['editor']);
    const before = h.sign('UpsertProduct', product('revoked-before'), {}, rv);
    const first = await h.post(before);
    assertOk(first);
    assertOk(await h.post(h.sign('writ.RevokeKey', { keyId: 'rv#1', reason: 'test' })));
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('revoked-after'), {}, rv)), 'KEY_REVOKED'));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/revoked-after`)).status, 404);
    // DESIGN §3: a stored outcome is returned for the same key and hash without re-verifying.
    const again = await h.post(before);
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  it('rejects a key whose notBefore is in the future with KEY_REVOKED 401', async () => {
    const early = newSigner('early#1');
    await registerKey(h, 'early', early, { notBefore: iso(Date.now() + HOUR) }, ['editor']);
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('early'), {}, early)), 'KEY_REVOKED'));
  });

  it('rejects a key whose notAfter is in the past with KEY_REVOKED 401', async () => {
    const late = newSigner('late#1', 'es256');
    await registerExpiring(h, 'late', late, ['editor']);
    await leavesNoRecord(h, async () => assertError(await h.post(h.sign('UpsertProduct', product('late'), {}, late)), 'KEY_REVOKED'));
  });

  it('accepts a key inside its validity period', async () => {
    const timely = newSigner('timely#1');
    await registerKey(h, 'timely', timely, { notBefore: iso(Date.now() - HOUR), notAfter: iso(Date.now() + HOUR) }, ['editor']);
    assertOk(await h.post(h.sign('UpsertProduct', product('timely'), {}, timely)));
  });

  it('rejects an envelope without a signature with UNAUTHENTICATED 401', async () => {
    const { signature: _sig, ...unsigned } = h.sign('UpsertProduct', product('unsigned'), {}, ed);
    await leavesNoRecord(h, async () => assertError(await h.post(unsigned), 'UNAUTHENTICATED'));
  });

  it('rejects a bearer token when auth.require is signature with UNAUTHENTICATED 401', async () => {
    const { signature: _sig, ...unsigned } = h.sign('UpsertProduct', product('bearer'), {}, ed);
    await leavesNoRecord(h, async () => {
      const res = await h.post(unsigned, { authorization: 'Bearer abc.def.ghi' });
      assertError(res, 'UNAUTHENTICATED');
      assert.match(res.body.message, /signed envelopes only/);
    });
  });

  it('rejects an Authorization header that is not a bearer token with UNAUTHENTICATED 401', async () => {
    const res = await h.post(h.sign('UpsertProduct', product('basic'), {}, ed), { authorization: 'Basic YWxpY2U6c2VjcmV0' });
    assertError(res, 'UNAUTHENTICATED');
  });

  it('answers BAD_SIGNATURE, UNKNOWN_KEY, KEY_REVOKED and UNAUTHENTICATED over a real socket', async () => {
    const size = await ledgerSize(h);
    const tampered = h.sign('UpsertProduct', product('sock-bad'), {}, ed);
    tampered.payload.name = 'changed';
    assertError(await client.submit(tampered), 'BAD_SIGNATURE');
    assertError(await client.submit(h.sign('UpsertProduct', product('sock-ghost'), {}, newSigner('nobody#1'))), 'UNKNOWN_KEY');
    const late = newSigner('late#2');
    await registerExpiring(h, 'late', late);
    const sizeAfterRegister = await ledgerSize(h);
    assert.equal(sizeAfterRegister, size + 1);
    assertError(await client.submit(h.sign('UpsertProduct', product('sock-late'), {}, late)), 'KEY_REVOKED');
    const { signature: _sig, ...unsigned } = h.sign('UpsertProduct', product('sock-unsigned'), {}, ed);
    assertError(await client.submit(unsigned), 'UNAUTHENTICATED');
    assertError(await client.submit(unsigned, 'abc.def.ghi'), 'UNAUTHENTICATED');
    assert.equal(await ledgerSize(h), sizeAfterRegister);
  });

  // The two below change the key registry, so they run last.
  it('refuses to register a keyId that auth.hmacKeys already uses', async () => {
    const shadow = newSigner('mac#1');
    const res = await h.post(h.sign('writ.RegisterKey', { actor: 'mac', keyId: 'mac#1', alg: 'ed25519', publicKey: shadow.publicPem }));
    assertError(res, 'INVALID_STATE');
    assertOk(await h.post(h.sign('UpsertProduct', product('mac-still'), {}, macSigner)));
  });

  it('revokes an HS256 key configured in auth.hmacKeys with writ.RevokeKey', async () => {
    assertOk(await h.post(h.sign('writ.RevokeKey', { keyId: 'mac#1' })));
    assertError(await h.post(h.sign('UpsertProduct', product('mac-revoked'), {}, macSigner)), 'KEY_REVOKED');
  });
});

/** Keys and secret files for bearer tokens: one HS256 secret and one EdDSA and one ES256 key pair. */
function tokenKeys(dir: string) {
  const hs = writeSecret(dir, 'jwt.secret');
  const ed = generateKeyPairSync('ed25519');
  const es = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const edFile = join(dir, 'jwt-ed.pub');
  const esFile = join(dir, 'jwt-es.pub');
  writeFileSync(edFile, ed.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(esFile, es.publicKey.export({ type: 'spki', format: 'pem' }));
  return { hs, ed: ed.privateKey, es: es.privateKey, edFile, esFile };
}

type TokenAlg = 'HS256' | 'EdDSA' | 'ES256';

interface TokenOptions {
  readonly claims?: Record<string, unknown>;
  readonly sub?: string | null;
  readonly jti?: string;
  readonly expiresAt?: number;
  readonly issuer?: string;
  readonly audience?: string;
}

describeEachBackend('authenticate with bearer tokens (auth.require = either)', (backend) => {
  const dir = tempDir();
  const keys = tokenKeys(dir);
  const issuer = 'https://idp.example.test';
  const audience = 'writ';
  let h: Harness;
  let client: WritClient;

  const signingKey = (alg: TokenAlg): Uint8Array | KeyObject => (alg === 'HS256' ? keys.hs.secret : alg === 'EdDSA' ? keys.ed : keys.es);

  async function token(alg: TokenAlg, o: TokenOptions = {}): Promise<string> {
    const jwt = new SignJWT({ tenant: 'default', nonce: randomBytes(12).toString('base64url'), ...o.claims })
      .setProtectedHeader({ alg })
      .setIssuedAt()
      .setIssuer(o.issuer ?? issuer)
      .setAudience(o.audience ?? audience)
      .setJti(o.jti ?? randomUUID())
      .setExpirationTime(Math.floor((o.expiresAt ?? Date.now() + HOUR) / 1000));
    if (o.sub !== null) jwt.setSubject(o.sub ?? 'jwt-user');
    return jwt.sign(signingKey(alg));
  }

  /** An envelope body with the identity fields left to the token. */
  function body(sku: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { v: 1, action: 'UpsertProduct', timestamp: new Date().toISOString(), payload: product(sku), ...extra };
  }

  before(async () => {
    h = await startHarness({ auth: { require: 'either', jwt: { hs256SecretFile: keys.hs.file, publicKeyFiles: [keys.edFile, keys.esFile], issuer, audience } } }, { backend });
    client = new WritClient(await h.listen(), h.reader);
    await assignRole(h, 'jwt-user', 'editor');
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const alg of ['HS256', 'EdDSA', 'ES256'] as const) {
    it(`accepts an ${alg} token whose claims fill actor, tenant, nonce and requestId`, async () => {
      const jti = randomUUID();
      const nonce = `nonce-${alg}-${randomBytes(6).toString('hex')}`;
      const sku = `jwt-${alg.toLowerCase()}`;
      const res = await h.post(body(sku), { authorization: `Bearer ${await token(alg, { jti, claims: { nonce } })}` });
      const answer = assertOk(res);
      assert.equal(answer.requestId, jti);
      const [record] = await leavesFor(h, 'commerce', jti);
      assert.equal(record.actor, 'jwt-user');
      assert.equal(record.outcome, 'OK');
      assert.ok(await h.writ.store.getOutcome('default', 'jwt-user', jti));
      assert.ok(await h.writ.store.getNonce('default', 'jwt-user', nonce));
      assert.equal((await h.get(`/v1/entities/default/product/${sku}`)).body.updatedBy, 'jwt-user');
    });
  }

  it('uses the jti as the nonce when the token has no nonce claim', async () => {
    const jti = randomUUID();
    assertOk(await h.post(body('jwt-jti'), { authorization: `Bearer ${await token('HS256', { jti, claims: { nonce: undefined } })}` }));
    assert.ok(await h.writ.store.getNonce('default', 'jwt-user', jti));
  });

  it('accepts explicit envelope fields that agree with the claims', async () => {
    const requestId = randomUUID();
    const nonce = randomUUID();
    const bearer = await token('EdDSA', { claims: { nonce } });
    assertOk(await h.post(body('jwt-explicit', { actor: 'jwt-user', tenant: 'default', requestId, nonce }), { authorization: `Bearer ${bearer}` }));
    assert.equal((await leavesFor(h, 'commerce', requestId)).length, 1);
  });

  it('replays the stored response for the same token and body', async () => {
    const bearer = await token('HS256');
    const b = body('jwt-replay');
    const first = await h.post(b, { authorization: `Bearer ${bearer}` });
    assertOk(first);
    const again = await h.post(b, { authorization: `Bearer ${bearer}` });
    assert.equal(again.raw, first.raw);
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  it("rejects an explicit actor that differs from the token's sub with UNAUTHENTICATED 401", async () => {
    await leavesNoRecord(h, async () => {
      const res = await h.post(body('jwt-other-actor', { actor: 'admin' }), { authorization: `Bearer ${await token('HS256')}` });
      assertError(res, 'UNAUTHENTICATED');
      assert.match(res.body.message, /"actor"/);
    });
  });

  it("rejects an explicit tenant that differs from the token's tenant with UNAUTHENTICATED 401", async () => {
    await leavesNoRecord(h, async () => assertError(await h.post(body('jwt-other-tenant', { tenant: 'other' }), { authorization: `Bearer ${await token('ES256')}` }), 'UNAUTHENTICATED'));
  });

  it("rejects an explicit nonce that differs from the token's nonce claim with UNAUTHENTICATED 401", async () => {
    await leavesNoRecord(h, async () => assertError(await h.post(body('jwt-other-nonce', { nonce: randomUUID() }), { authorization: `Bearer ${await token('HS256', { claims: { nonce: randomUUID() } })}` }), 'UNAUTHENTICATED'));
  });

  it('rejects an expired token with UNAUTHENTICATED 401', async () => {
    await leavesNoRecord(h, async () => {
      const res = await h.post(body('jwt-expired'), { authorization: `Bearer ${await token('EdDSA', { expiresAt: Date.now() - HOUR })}` });
      assertError(res, 'UNAUTHENTICATED');
      assert.match(res.body.message, /expired/);
    });
  });

  it('rejects a token from another issuer or for another audience with UNAUTHENTICATED 401', async () => {
    await leavesNoRecord(h, async () => {
      assertError(await h.post(body('jwt-iss'), { authorization: `Bearer ${await token('HS256', { issuer: 'https://evil.test' })}` }), 'UNAUTHENTICATED');
      assertError(await h.post(body('jwt-aud'), { authorization: `Bearer ${await token('HS256', { audience: 'someone-else' })}` }), 'UNAUTHENTICATED');
    });
  });

  it('rejects a token signed by an unconfigured key with UNAUTHENTICATED 401', async () => {
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged = await new SignJWT({ tenant: 'default' }).setProtectedHeader({ alg: 'EdDSA' }).setSubject('jwt-user').setIssuer(issuer).setAudience(audience).setJti(randomUUID()).setExpirationTime('1h').sign(other);
    const forgedHs = await new SignJWT({ tenant: 'default' }).setProtectedHeader({ alg: 'HS256' }).setSubject('jwt-user').setIssuer(issuer).setAudience(audience).setJti(randomUUID()).setExpirationTime('1h').sign(randomBytes(32));
    await leavesNoRecord(h, async () => {
      assertError(await h.post(body('jwt-forged'), { authorization: `Bearer ${forged}` }), 'UNAUTHENTICATED');
      assertError(await h.post(body('jwt-forged'), { authorization: `Bearer ${forgedHs}` }), 'UNAUTHENTICATED');
    });
  });

  it('rejects an unsecured token (alg none), a token without sub and a non-JWT with UNAUTHENTICATED 401', async () => {
    const unsecured = new UnsecuredJWT({ tenant: 'default' }).setSubject('admin').setIssuer(issuer).setAudience(audience).setJti(randomUUID()).setExpirationTime('1h').encode();
    await leavesNoRecord(h, async () => {
      assertError(await h.post(body('jwt-none'), { authorization: `Bearer ${unsecured}` }), 'UNAUTHENTICATED');
      assertError(await h.post(body('jwt-nosub'), { authorization: `Bearer ${await token('HS256', { sub: null })}` }), 'UNAUTHENTICATED');
      assertError(await h.post(body('jwt-garbage'), { authorization: 'Bearer not-a-jwt' }), 'UNAUTHENTICATED');
    });
  });

  it('still accepts signed envelopes', async () => {
    assertOk(await h.post(h.sign('UpsertProduct', product('either-signed'))));
  });

  it('still needs a role for the token subject: an actor without one is refused by policy, on the record', async () => {
    const jti = randomUUID();
    const res = await h.post(body('jwt-no-role'), { authorization: `Bearer ${await token('HS256', { sub: 'roleless', jti })}` });
    assertError(res, 'FORBIDDEN');
    const [record] = await leavesFor(h, 'commerce', jti);
    assert.equal(record.outcome, 'REJECTED');
    assert.equal(record.code, 'FORBIDDEN');
  });

  it('accepts a token and answers UNAUTHENTICATED for an expired one over a real socket', async () => {
    const ok = await client.submit(body('jwt-socket'), await token('ES256'));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assertError(await client.submit(body('jwt-socket-expired'), await token('ES256', { expiresAt: Date.now() - HOUR })), 'UNAUTHENTICATED');
    const signed = await client.submit(h.sign('UpsertProduct', product('either-socket')));
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
  });
});

describeEachBackend('authenticate with bearer tokens only (auth.require = jwt)', (backend) => {
  const dir = tempDir();
  const keys = tokenKeys(dir);
  let h: Harness;
  let client: WritClient;

  const adminToken = () => new SignJWT({ tenant: 'default', nonce: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').setJti(randomUUID()).setExpirationTime('1h').sign(keys.hs.secret);
  const body = (sku: string) => ({ v: 1, action: 'UpsertProduct', timestamp: new Date().toISOString(), payload: product(sku) });

  before(async () => {
    h = await startHarness({ auth: { require: 'jwt', jwt: { hs256SecretFile: keys.hs.file, publicKeyFiles: [] } } }, { backend });
    client = new WritClient(await h.listen(), h.reader);
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a bearer token', async () => {
    assertOk(await h.post(body('jwt-only'), { authorization: `Bearer ${await adminToken()}` }));
  });

  it('rejects a signed envelope without a token with UNAUTHENTICATED 401 over inject() and a real socket', async () => {
    await leavesNoRecord(h, async () => {
      const res = await h.post(h.sign('UpsertProduct', product('jwt-only-signed')));
      assertError(res, 'UNAUTHENTICATED');
      assert.match(res.body.message, /bearer tokens only/);
      assertError(await client.submit(h.sign('UpsertProduct', product('jwt-only-signed'))), 'UNAUTHENTICATED');
      const { signature: _sig, ...unsigned } = h.sign('UpsertProduct', product('jwt-only-unsigned'));
      assertError(await client.submit(unsigned), 'UNAUTHENTICATED');
    });
    assert.equal((await h.get('/v1/entities/default/product/jwt-only-signed')).status, 404);
  });
});
