import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk } from './support/stage-helpers.js';

/**
 * Revocation (docs/security.md, "Access revocation and one-time codes"): a revoked role counts for
 * the very next command, even one already past authorization while the revocation was committing;
 * no revocation leaves a tenant without an admin; an admin does not revoke its own admin role.
 */

describeEachBackend('RevokeRole', (backend) => {
  let h: Harness;
  let ann: Signer;
  const as = (signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, {}, signer));
  before(async () => {
    h = await startHarness({}, { backend });
    ann = await h.actor('ann', ['admin']);
  });
  after(() => h.close());

  it('refuses an admin revoking its own admin role, and changes nothing', async () => {
    const res = await as(ann, 'RevokeRole', { actor: 'ann', role: 'admin' });
    assertError(res, 'FORBIDDEN');
    assert.match(res.body.message, /another admin/);
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'ann'), ['admin']);
  });

  it('refuses to revoke the last admin of a tenant, even on writ\'s own authority', async () => {
    assertOk(await as(ann, 'RevokeRole', { actor: 'admin', role: 'admin' }));
    const r = await h.writ.pipeline.system(h.tenant, 'RevokeRole', { actor: 'ann', role: 'admin' }, rid());
    assert.equal(r.httpStatus, 409, r.body);
    assert.equal(JSON.parse(r.body).code, 'INVALID_STATE');
    assert.match(JSON.parse(r.body).message, /last admin/);
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'ann'), ['admin']);
    const g = await h.writ.pipeline.system(h.tenant, 'AssignRole', { actor: 'admin', role: 'admin' }, rid());
    assert.equal(g.httpStatus, 200, g.body);
  });

  it('lets only one of two admins revoking each other at the same moment succeed', async () => {
    const [a, b] = await Promise.all([as(h.admin, 'RevokeRole', { actor: 'ann', role: 'admin' }), as(ann, 'RevokeRole', { actor: 'admin', role: 'admin' })]);
    const oks = [a, b].filter((r) => r.status === 200);
    assert.equal(oks.length, 1, `exactly one revocation may succeed: ${a.raw} / ${b.raw}`);
    const admins = ['admin', 'ann'].filter((x) => h.writ.directory.rolesOf(h.tenant, x).includes('admin'));
    assert.equal(admins.length, 1);
    // Whichever lost its role gets it back, so the next test starts from two admins again.
    const lost = ['admin', 'ann'].find((x) => !admins.includes(x))!;
    const g = await h.writ.pipeline.system(h.tenant, 'AssignRole', { actor: lost, role: 'admin' }, rid());
    assert.equal(g.httpStatus, 200, g.body);
  });

  it('takes effect for a command authorized while the revocation was still committing', async () => {
    const bob = await h.actor('bob', ['editor']);
    const product = () => ({ sku: `s-${rid()}`, name: 'Mug', price: { amount: 1, currency: 'EUR' } });
    for (let round = 0; round < 5; round++) {
      const admin = h.writ.directory.rolesOf(h.tenant, 'admin').includes('admin') ? h.admin : ann;
      const revoking = as(admin, 'RevokeRole', { actor: 'bob', role: 'editor' });
      const racing = as(bob, 'UpsertProduct', product());
      const [revoked, raced] = await Promise.all([revoking, racing]);
      assertOk(revoked);
      if (raced.status === 200) {
        // Allowed only when it was written before the revocation (commit order is the outbox's).
        const events = await h.writ.store.readStoredOutbox(0, 100_000);
        const seq = (requestId: string) => events.find((e) => (JSON.parse(e.data) as { requestId: string }).requestId === requestId)?.seq ?? -1;
        assert.ok(seq(raced.body.requestId) < seq(revoked.body.requestId), 'a command by bob was applied after the revocation of the role it needed');
      } else assertError(raced, 'FORBIDDEN');
      assertOk(await as(admin, 'AssignRole', { actor: 'bob', role: 'editor' }));
    }
  });
});

describeEachBackend('RevokeEntitlement', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  it('deletes the entitlement for the very next read, and a second revocation is NOT_FOUND', async () => {
    assertOk(await h.post(h.sign('GrantEntitlement', { subject: 'erin', entitlement: 'beta' })));
    assertOk(await h.post(h.sign('RevokeEntitlement', { subject: 'erin', entitlement: 'beta' })));
    const read = await h.get(`/v1/entities/${h.tenant}/entitlement/erin%3Abeta`);
    assert.equal(read.body.deleted, true);
    assertError(await h.post(h.sign('RevokeEntitlement', { subject: 'erin', entitlement: 'beta' })), 'NOT_FOUND');
  });

  it('is refused to an actor without the admin role', async () => {
    const eve = await h.actor('eve', ['editor']);
    assertOk(await h.post(h.sign('GrantEntitlement', { subject: 'erin', entitlement: 'pro' })));
    assertError(await h.post(h.sign('RevokeEntitlement', { subject: 'erin', entitlement: 'pro' }, {}, eve)), 'FORBIDDEN');
  });
});
