import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { SignJWT } from 'jose';
import { READ_TOKEN_SCHEME, READ_TOKEN_TYPE, readTokenOf, readTokenSigningInput } from '../src/core/read-token.js';
import { signBytes } from '../src/core/signature.js';
import { signReadToken, type Signer } from '../src/sdk/sign.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';
import { hmacSigner, registerKey, tempDir, writeSecret } from './support/stage-helpers.js';
import { actorIn } from './support/tenants.js';

const PATH = '/v1/entities/default/product/tea';

describeEachBackend('read tokens (Authorization: WritSig)', (backend) => {
  const dir = tempDir('writ-read-token-');
  const mac = writeSecret(dir, 'mac.secret');
  const jwtSecret = writeSecret(dir, 'jwt.secret');
  let h: Harness;
  let es: Signer;

  /** A GET of PATH with this Authorization value; the answer's status and code. */
  async function read(authorization: string | undefined, path = PATH, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; code?: string }> {
    const res = await h.app.inject({ method, url: path, headers: authorization === undefined ? {} : { authorization } });
    return { status: res.statusCode, code: JSON.parse(res.body).code };
  }

  /** A token signed by `signer` with the claims changed by `patch` (seconds since the epoch). */
  function token(signer: Signer, patch: Record<string, unknown> = {}, kid = signer.keyId): string {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { sub: 'admin', tenant: 'default', iat, exp: iat + 60, htm: 'GET', htu: PATH, ...patch };
    const input = readTokenSigningInput({ alg: signer.key.alg === 'ed25519' ? 'EdDSA' : signer.key.alg === 'es256' ? 'ES256' : 'HS256', typ: READ_TOKEN_TYPE, kid }, claims as never);
    return `${READ_TOKEN_SCHEME} ${readTokenOf(input, signBytes(signer.key, Buffer.from(input, 'ascii')))}`;
  }

  before(async () => {
    h = await startHarness({ auth: { hmacKeys: [{ tenant: 'default', actor: 'mac', keyId: 'mac#1', secretFile: mac.file }], jwt: { hs256SecretFile: jwtSecret.file, publicKeyFiles: [] } } }, { backend });
    es = newSigner('es#1', 'es256');
    await registerKey(h, 'es', es as never);
    assert.equal((await h.post(h.sign('UpsertProduct', { sku: 'tea', name: 'Tea', price: { amount: 1, currency: 'EUR' } }))).status, 200);
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a token signed by the Ed25519, ES256 or configured HS256 key of a member', async () => {
    assert.equal((await read(token(h.admin))).status, 200);
    assert.equal((await read(token(es, { sub: 'es' }))).status, 200);
    assert.equal((await read(token(hmacSigner('mac#1', mac.secret), { sub: 'mac' }))).status, 200);
    const sdk = signReadToken({ ...h.admin, tenant: 'default' }, 'GET', PATH);
    assert.equal((await read(`${READ_TOKEN_SCHEME} ${sdk}`)).status, 200);
  });

  it('refuses an expired token, one issued in the future and one that lives longer than 300 s', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(await read(token(h.admin, { iat: now - 120, exp: now - 1 })), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(token(h.admin, { iat: now + 3600, exp: now + 3660 })), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(token(h.admin, { iat: now, exp: now + 301 })), { status: 401, code: 'UNAUTHENTICATED' });
  });

  it('refuses a token for another method, path or query', async () => {
    assert.deepEqual(await read(token(h.admin, { htm: 'POST' })), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(token(h.admin), '/v1/entities/default/product/other'), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(token(h.admin), `${PATH}?at=0`), { status: 401, code: 'UNAUTHENTICATED' });
  });

  it('refuses a token naming a tenant the key is not registered in, and a member of another tenant', async () => {
    assert.deepEqual(await read(token(h.admin, { tenant: 'other' })), { status: 401, code: 'UNKNOWN_KEY' });
    const olga = await actorIn(h, 'other', 'olga', ['admin']);
    assert.deepEqual(await read(token(olga, { sub: 'olga', tenant: 'other' })), { status: 403, code: 'FORBIDDEN' });
  });

  it('refuses an unknown key, a key of another actor and a bad signature', async () => {
    assert.deepEqual(await read(token(newSigner('ghost#1'), { sub: 'ghost' })), { status: 401, code: 'UNKNOWN_KEY' });
    assert.deepEqual(await read(token(h.admin, { sub: 'es' })), { status: 401, code: 'UNKNOWN_KEY' });
    assert.deepEqual(await read(token(newSigner('admin#1'))), { status: 401, code: 'BAD_SIGNATURE' }, 'signed by another key under the admin key id');
    const good = token(h.admin);
    const tampered = good.replace(/\.([^.]*)\./, (_m, claims: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), sub: 'admin', htu: '/v1/actions' })).toString('base64url')}.`);
    assert.deepEqual(await read(tampered, '/v1/actions'), { status: 401, code: 'BAD_SIGNATURE' });
  });

  it('refuses a revoked key', async () => {
    const rex = newSigner('rex#1');
    await registerKey(h, 'rex', rex as never);
    assert.equal((await read(token(rex, { sub: 'rex' }))).status, 200);
    assert.equal((await h.post(h.sign('writ.RevokeKey', { keyId: 'rex#1' }))).status, 200);
    assert.deepEqual(await read(token(rex, { sub: 'rex' })), { status: 401, code: 'KEY_REVOKED' });
  });

  it('refuses garbage: another scheme, a token that is no JWS, a foreign typ', async () => {
    assert.deepEqual(await read('Basic YWRtaW46YWRtaW4='), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(`${READ_TOKEN_SCHEME} not-a-token`), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(`${READ_TOKEN_SCHEME} ${'a'.repeat(5000)}`), { status: 401, code: 'UNAUTHENTICATED' });
    const jwtTyp = token(h.admin).replace(/WritSig [^.]*/, `WritSig ${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: h.admin.keyId })).toString('base64url')}`);
    assert.deepEqual(await read(jwtTyp), { status: 401, code: 'UNAUTHENTICATED' });
  });

  it('accepts a bearer JWT with sub and tenant, and refuses one without tenant or expired', async () => {
    const jwt = (claims: Record<string, unknown>, exp: string | number = '5m') => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').setExpirationTime(exp).sign(jwtSecret.secret);
    assert.equal((await read(`Bearer ${await jwt({ tenant: 'default' })}`)).status, 200);
    assert.deepEqual(await read(`Bearer ${await jwt({})}`), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(`Bearer ${await jwt({ tenant: 'default' }, Math.floor(Date.now() / 1000) - 10)}`), { status: 401, code: 'UNAUTHENTICATED' });
    assert.deepEqual(await read(`Bearer ${await jwt({ tenant: 'other' })}`), { status: 403, code: 'FORBIDDEN' });
  });
});
