import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { newSigner, rid, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leaves } from './support/stage-helpers.js';

/**
 * Separation of duties over keys (docs/security.md, "Writes, approvals and separation of duties"):
 * a key is a way to act as its actor, so a key for a holder of `admin` or `breakglass` is added
 * only by that actor. Otherwise one admin could register a key for a second admin and supply the
 * second approval of a quorum, or the second party of a break-glass, on its own.
 */
describeEachBackend('keys of admins and breakglass holders', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
    await h.actor('bob', ['admin']);
    await h.actor('carol', ['breakglass']);
    await h.actor('dave', ['publisher']);
  });
  after(() => h.close());

  const register = (actor: string, keyId: string, signer = h.admin) => {
    const key = newSigner(keyId);
    return h.post(h.sign('writ.RegisterKey', { actor, keyId, alg: 'ed25519', publicKey: key.publicPem }, {}, signer));
  };

  it('refuses an admin registering a key for another admin, and records the refusal', async () => {
    const res = await register('bob', 'bob#forged');
    assertError(res, 'FORBIDDEN');
    assert.match(res.body.message, /only bob/);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/key/${encodeURIComponent('bob#forged')}`)).status, 404);
    const last = (await leaves(h, 'writ')).at(-1)!;
    assert.deepEqual([last.action, last.outcome, last.code], ['writ.RegisterKey', 'REJECTED', 'FORBIDDEN']);
  });

  it('refuses an admin registering a key for a holder of breakglass', async () => {
    assertError(await register('carol', 'carol#forged'), 'FORBIDDEN');
  });

  it('lets an admin add a key to itself, signed with its current key', async () => {
    const signer = await h.actor('bob-two', ['admin']);
    assertOk(await register('bob-two', 'bob-two#2', signer));
  });

  it('lets an admin register keys for actors without those roles, as before', async () => {
    assertOk(await register('dave', 'dave#2'));
    assertOk(await register('erin', 'erin#1'));
  });

  it('lets writ itself register a key for an admin (bootstrap)', async () => {
    const key = newSigner('bob#system');
    const r = await h.writ.pipeline.system(h.tenant, 'writ.RegisterKey', { actor: 'bob', keyId: key.keyId, alg: 'ed25519', publicKey: key.publicPem }, rid());
    assert.equal(r.httpStatus, 200, r.body);
  });
});
