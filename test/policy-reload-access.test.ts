import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { actorIn } from './support/tenants.js';

/**
 * A reload changes who may do what, so it is an admin power of the deployment's home tenant
 * (docs/security.md, "Policy reload"). Before the route existed, nobody could reload; these are the
 * callers that must never be able to: an anonymous caller, a member of the home tenant without
 * admin, and the admin of another tenant. Each is refused and the policy in force stays as it was.
 */
describe('policy reload: who may not reload', () => {
  let h: Harness;
  let ed: Signer;
  let olga: Signer;
  const product = (sku: string) => ({ sku, name: 'Lamp', price: { amount: 100, currency: 'EUR' } });
  const upsert = (sku: string) => h.post(h.sign('UpsertProduct', product(sku)));

  before(async () => {
    h = await startHarness();
    ed = await h.actor('ed', ['editor']);
    olga = await actorIn(h, 'other', 'olga', ['admin']);
    // On disk, not in force: only a reload by an admin of the home may put it in force.
    writeFileSync(join(h.home, 'policies', 'freeze.cedar'), 'forbid (principal, action == Writ::Action::"UpsertProduct", resource);\n');
  });
  after(() => h.close());

  it('refuses an anonymous caller (401), and the old policy stays in force', async () => {
    const res = await h.getAs('/v1/policy/reload', null, { method: 'POST' });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.code, 'UNAUTHENTICATED');
    assert.equal((await upsert('anon-1')).status, 200, 'the forbid on disk is not in force');
  });

  it('refuses a member of the home tenant without admin (403), and the old policy stays in force', async () => {
    const res = await h.getAs('/v1/policy/reload', ed, { method: 'POST' });
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.code, 'FORBIDDEN');
    assert.equal((await upsert('ed-1')).status, 200);
  });

  it("refuses another tenant's admin (403): policy is the deployment's, not a tenant's", async () => {
    const res = await h.getAs('/v1/policy/reload', olga, { method: 'POST', tenant: 'other' });
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.code, 'FORBIDDEN');
    assert.equal((await upsert('olga-1')).status, 200);
  });

  it('takes no policy text: a body is refused before anything is read, and the old policy stays in force', async () => {
    const path = '/v1/policy/reload';
    const res = await h.app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: h.readAuth('POST', path), 'content-type': 'text/plain' },
      payload: 'permit (principal, action, resource);',
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(JSON.parse(res.body).code, 'INVALID_ENVELOPE');
    const big = await h.app.inject({ method: 'POST', url: path, headers: { authorization: h.readAuth('POST', path), 'content-type': 'text/plain' }, payload: 'permit (principal, action, resource);\n'.repeat(20) });
    assert.equal(big.statusCode, 413, big.body);
    assert.equal(JSON.parse(big.body).code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await upsert('body-1')).status, 200);
  });

  it("lets the home's admin reload, and then the forbid is in force", async () => {
    const res = await h.getAs('/v1/policy/reload', h.admin, { method: 'POST' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'reloaded');
    const refused = await upsert('after-1');
    assert.equal(refused.status, 403, refused.raw);
    assert.equal(refused.body.code, 'FORBIDDEN');
  });
});
