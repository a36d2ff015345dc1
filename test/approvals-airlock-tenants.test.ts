import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { DEPLOYMENT_SCOPE } from '../src/state/scope.js';
import { held, startAirlockHarness, type Held } from './support/approvals.js';
import { newSigner, rid, type Harness } from './support/harness.js';
import { refHotp } from './support/reference.js';
import { assertError, assertOk, leaves, ManualClock } from './support/stage-helpers.js';

/**
 * One TOTP secret serves every tenant, so a window spent in one tenant is spent in all (DESIGN §5,
 * issue 4): the record of spent windows is one deployment-wide entity, read and written in the same
 * serialised apply as the staging, and it survives a restart. Codes come from the independent
 * RFC 6238 reference of test/support/reference.ts; the clock is injected.
 */
const KEY = Buffer.from('writ airlock tenants key 32 byte', 'ascii');
const B = 'beta';

describeEachBackend('airlock windows across tenants', (backend) => {
  // 5 s into a window, so that "now" and the windows the tests compute agree.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let h: Harness;
  const actors: Record<string, { mia: Signer; paul: Signer }> = {};
  let n = 0;

  /** Registers mia (merch) and paul (publisher) in tenant `tenant` on writ's own authority. */
  async function people(tenant: string): Promise<{ mia: Signer; paul: Signer }> {
    const out: Record<string, Signer> = {};
    for (const [name, role] of [['mia', 'merch'], ['paul', 'publisher']] as const) {
      const signer = newSigner(`${name}#1`);
      for (const [action, payload] of [
        ['writ.RegisterKey', { actor: name, keyId: signer.keyId, alg: 'ed25519', publicKey: signer.publicPem }],
        ['AssignRole', { actor: name, role }],
      ] as const) {
        const reply = await h.writ.pipeline.system(tenant, action, payload, rid());
        assert.equal(reply.httpStatus, 200, reply.body);
      }
      out[name] = signer;
    }
    return out as { mia: Signer; paul: Signer };
  }

  const post = (tenant: string, signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, { tenant, timestamp: clock.iso() }, signer));
  const stage = (tenant: string, cmd: Held, code: string) => post(tenant, actors[tenant].paul, 'writ.Stage', { approvalId: cmd.id, code });
  const code = (w: number) => refHotp(KEY, w);
  const spentRecord = async () => (await h.writ.store.getEntity(DEPLOYMENT_SCOPE, 'airlock-windows', 'spent'))?.doc as { stage: number[]; land: number[] };

  /** A product upsert in `tenant`, held for the airlock and approved by that tenant's publisher. */
  async function approved(tenant: string): Promise<Held> {
    const { mia, paul } = actors[tenant];
    const cmd = await held(h, clock, mia, 'UpsertProduct', { sku: `t-${++n}`, name: 'Air', price: { amount: 1, currency: 'EUR' } }, { tenant });
    assertOk(await post(tenant, paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }));
    return cmd;
  }

  before(async () => {
    h = await startAirlockHarness(clock, KEY, backend);
    actors[h.tenant] = await people(h.tenant);
    actors[B] = await people(B);
  });
  after(() => h.close());

  it('refuses in tenant B a window spent staging in tenant A, also after a restart', async () => {
    const [a, b] = [await approved(h.tenant), await approved(B)];
    clock.advance(30_000);
    const w = window();
    assertOk(await stage(h.tenant, a, code(w)));
    assertError(await stage(B, b, code(w)), 'TOTP_REPLAY', 'before the restart');

    await h.restart();
    const refused = await stage(B, b, code(w));
    assertError(refused, 'TOTP_REPLAY', 'after the restart');
    assert.deepEqual((await leaves(h, 'writ', B)).filter((r) => r.requestId === refused.body.requestId).map((r) => [r.outcome, r.code]), [['REJECTED', 'TOTP_REPLAY']]);

    clock.advance(30_000);
    assertOk(await stage(B, b, code(window())));
    assert.deepEqual((await spentRecord()).stage, [w, w + 1], 'one record for both tenants');
  });

  it('lets exactly one of two concurrent stagings in different tenants spend a window', async () => {
    const [a, b] = [await approved(h.tenant), await approved(B)];
    clock.advance(30_000);
    const c = code(window());
    const answers = await Promise.all([stage(h.tenant, a, c), stage(B, b, c)]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], JSON.stringify(answers.map((r) => r.body)));
    assertError(answers.find((r) => r.status === 409)!, 'TOTP_REPLAY');
  });

  it('keeps only the windows a code could still be presented for, out of reach of every tenant', async () => {
    const b = await approved(B);
    clock.advance(5 * 30_000);
    const w = window();
    assertOk(await stage(B, b, code(w)));
    assert.deepEqual((await spentRecord()).stage, [w], 'windows more than one step old are forgotten');
    // No identity belongs to the reserved scope, so a read of it is another tenant's: refused.
    assert.equal((await h.get(`/v1/entities/${DEPLOYMENT_SCOPE}/airlock-windows/spent`)).status, 403);
    assert.equal((await h.writ.store.getEntity(B, 'airlock-windows', 'spent')), null, 'no tenant keeps a record of its own');
  });
});
