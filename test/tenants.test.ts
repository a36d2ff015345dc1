import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';

/**
 * writ.CreateTenant and GET /v1/tenants through the HTTP server: who may create a tenant, that an
 * existing tenant cannot be taken over by "creating" it again, and that the new tenant's first admin
 * is bootstrapped by ledger records in that tenant's own logs.
 */
describeEachBackend('tenants of a deployment', (backend) => {
  let h: Harness;
  let editor: Signer;
  const acmeAdmin = newSigner('zed#1');

  const create = (tenant: string, admin: string, publicKey: string, signer?: Signer, envelopeTenant?: string) =>
    h.post(h.sign('writ.CreateTenant', { tenant, admin, alg: 'ed25519', publicKey }, envelopeTenant ? { tenant: envelopeTenant } : {}, signer));
  /** A command in `tenant`, signed by `signer` (as the actor its key id names). */
  const postIn = (tenant: string, action: string, payload: Record<string, unknown>, signer: Signer) =>
    h.post(signEnvelope({ action, payload, tenant }, signer).envelope);

  before(async () => {
    h = await startHarness({}, { backend });
    editor = await h.actor('eve', ['editor']);
  });
  after(async () => {
    await h.close();
  });

  it('creates a tenant whose first admin, bootstrapped by writ in the new tenant, can act there at once', async () => {
    const res = await create('acme', 'zed', acmeAdmin.publicPem);
    assert.equal(res.status, 200, res.raw);
    assert.deepEqual(res.body.result, { tenant: 'acme', admin: 'zed', keyId: 'zed#1' });
    await h.writ.tenants.idle();
    const bob = newSigner('bob#1');
    const reg = await postIn('acme', 'writ.RegisterKey', { actor: 'bob', keyId: bob.keyId, alg: 'ed25519', publicKey: bob.publicPem }, acmeAdmin);
    assert.equal(reg.status, 200, reg.raw);
  });

  it("records the admin's key and role in the new tenant's own logs, on writ's authority", async () => {
    const keys = await h.getAs('/v1/ledger/acme/writ/records?envelopes=true', acmeAdmin, { tenant: 'acme' });
    assert.equal(keys.status, 200, JSON.stringify(keys.body));
    const first = JSON.parse(keys.body.records[0].envelope);
    assert.equal(first.action, 'writ.RegisterKey');
    assert.equal(first.actor, 'writ');
    assert.equal(first.payload.keyId, 'zed#1');
    const roles = await h.getAs('/v1/ledger/acme/access/records?envelopes=true', acmeAdmin, { tenant: 'acme' });
    assert.equal(roles.status, 200, JSON.stringify(roles.body));
    assert.deepEqual(roles.body.records.map((r: any) => JSON.parse(r.envelope)).map((e: any) => [e.actor, e.action, e.payload.role]), [['writ', 'AssignRole', 'admin']]);
  });

  it('refuses to create a tenant that exists (created, the home tenant, or one with a log), with INVALID_STATE and no new admin', async () => {
    const intruder = newSigner('mallory#1');
    for (const tenant of ['acme', h.tenant]) {
      const res = await create(tenant, 'mallory', intruder.publicPem);
      assert.equal(res.status, 409, `${tenant}: ${res.raw}`);
      assert.equal(res.body.code, 'INVALID_STATE');
    }
    // A tenant nobody created but which has a log: its key would otherwise be an admin's way in.
    const other = newSigner('ann#1');
    const sys = await h.writ.pipeline.system('legacy', 'writ.RegisterKey', { actor: 'ann', keyId: other.keyId, alg: 'ed25519', publicKey: other.publicPem }, 'legacy-key');
    assert.equal(sys.httpStatus, 200, sys.body);
    const res = await create('legacy', 'mallory', intruder.publicPem);
    assert.equal(res.body.code, 'INVALID_STATE', res.raw);
    await h.writ.tenants.idle();
    const tried = await postIn('legacy', 'writ.RegisterKey', { actor: 'x', keyId: 'x#1', alg: 'ed25519', publicKey: intruder.publicPem }, intruder);
    assert.equal(tried.body.code, 'UNKNOWN_KEY', 'mallory got no key in an existing tenant');
  });

  it('lets only admins of the home tenant create tenants: not a member of it, nor the admin of another tenant', async () => {
    const pem = newSigner('x#1').publicPem;
    const byEditor = await create('beta', 'x', pem, editor);
    assert.equal(byEditor.status, 403, byEditor.raw);
    assert.equal(byEditor.body.code, 'FORBIDDEN');
    const byTenantAdmin = await postIn('acme', 'writ.CreateTenant', { tenant: 'gamma', admin: 'x', alg: 'ed25519', publicKey: pem }, acmeAdmin);
    assert.equal(byTenantAdmin.status, 403, byTenantAdmin.raw);
    assert.equal(byTenantAdmin.body.code, 'FORBIDDEN');
    const listed = await h.get('/v1/tenants');
    assert.deepEqual(listed.body.items.map((t: any) => t.tenant).filter((t: string) => t === 'beta' || t === 'gamma'), []);
  });

  it('refuses a tenant name outside the envelope pattern or its 64-character bound, and a key that is not a public key', async () => {
    const pem = newSigner('x#1').publicPem;
    for (const tenant of ['-lead', 'a/b', '_deployment', 'x'.repeat(65)]) {
      const res = await create(tenant, 'x', pem);
      assert.equal(res.status, 400, `${tenant}: ${res.raw}`);
      assert.equal(res.body.code, 'INVALID_PAYLOAD');
    }
    const res = await create('delta', 'x', 'not a key');
    assert.equal(res.body.code, 'INVALID_PAYLOAD', res.raw);
    assert.equal((await h.get('/v1/tenants')).body.items.some((t: any) => t.tenant === 'delta'), false);
  });

  it('bootstraps an admin whose name holds characters a requestId may not (ops@example.com)', async () => {
    const ops = newSigner('ops@example.com#1');
    const res = await create('mail', 'ops@example.com', ops.publicPem);
    assert.equal(res.status, 200, res.raw);
    await h.writ.tenants.idle();
    const reg = await postIn('mail', 'writ.RegisterKey', { actor: 'ann', keyId: 'ann#1', alg: 'ed25519', publicKey: newSigner('ann#1').publicPem }, ops);
    assert.equal(reg.status, 200, reg.raw);
  });

  it('lists the tenants to operators of the home tenant only', async () => {
    const listed = await h.get('/v1/tenants');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const acme = listed.body.items.find((t: any) => t.tenant === 'acme');
    assert.equal(acme.ready, true);
    assert.equal(acme.created.admin, 'zed');
    assert.equal(acme.created.by, 'admin');
    assert.deepEqual(listed.body.items.map((t: any) => t.tenant), [...listed.body.items.map((t: any) => t.tenant)].sort());
    assert.equal(listed.body.items.find((t: any) => t.tenant === h.tenant).home, true);
    assert.equal((await h.getAs('/v1/tenants', null)).status, 401);
    assert.equal((await h.getAs('/v1/tenants', editor)).status, 403);
    assert.equal((await h.getAs('/v1/tenants', acmeAdmin, { tenant: 'acme' })).status, 403, "another tenant's admin does not operate the deployment");
  });

  it('pages the listing by name', async () => {
    const first = await h.get('/v1/tenants?limit=1');
    assert.equal(first.body.items.length, 1);
    const second = await h.get(`/v1/tenants?limit=1&after=${first.body.next}`);
    assert.ok(second.body.items[0].tenant > first.body.items[0].tenant);
    assert.equal((await h.get('/v1/tenants?after=..%2F')).status, 400);
  });

  it('completes, when writ opens again, the bootstrap of a tenant recorded just before it stopped', async () => {
    await h.writ.tenants.close(); // as if writ stopped between the command and the bootstrap
    const late = newSigner('lee#1');
    const res = await create('late', 'lee', late.publicPem);
    assert.equal(res.status, 200, res.raw);
    assert.equal((await h.get('/v1/tenants')).body.items.find((t: any) => t.tenant === 'late').ready, false);
    await h.restart();
    await h.writ.tenants.idle();
    assert.equal((await h.get('/v1/tenants')).body.items.find((t: any) => t.tenant === 'late').ready, true);
    const reg = await postIn('late', 'writ.RegisterKey', { actor: 'lee', keyId: 'lee#2', alg: 'ed25519', publicKey: newSigner('lee#2').publicPem }, late);
    assert.equal(reg.status, 200, reg.raw);
  });
});
