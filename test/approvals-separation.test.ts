import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { loadConfig } from '../src/config/config.js';
import type { Signer } from '../src/sdk/sign.js';
import { openWrit } from '../src/writ.js';
import { approvalDoc, held, poster, startAirlockHarness, type Held, type Post } from './support/approvals.js';
import { newSigner, rid, startHarness, type Harness } from './support/harness.js';
import { refHotp } from './support/reference.js';
import { assertError, assertOk, ManualClock } from './support/stage-helpers.js';

/**
 * Separation of duties (docs/security.md, "Writes, approvals and separation of duties"): nobody
 * decides alone on a command they requested or that grants them something (they are its
 * beneficiary), granting `breakglass` is held like granting `admin`, and a break-glass review is
 * closed by an admin who took no part in it.
 */

/** Grants a role on writ's own authority (bootstrap), as `writ init` does for the first admin. */
async function systemGrant(h: Harness, actor: string, role: string): Promise<void> {
  const r = await h.writ.pipeline.system(h.tenant, 'AssignRole', { actor, role }, rid());
  assert.equal(r.httpStatus, 200, r.body);
}

describe('a sole admin', () => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now });
    post = poster(h, clock);
    await h.actor('alice');
  });
  after(() => h.close());

  it('cannot make another admin without two other admins: granting itself breakglass is held for the same quorum', async () => {
    const grant = await held(h, clock, h.admin, 'AssignRole', { actor: 'alice', role: 'admin' });
    const self = await post(h.admin, 'AssignRole', { actor: 'admin', role: 'breakglass' });
    assert.equal(self.status, 202, `granting breakglass must be held: ${self.raw}`);
    const { quorum, roles, allowSelf } = self.body.approval.requirement;
    assert.deepEqual({ quorum, roles, allowSelf }, { quorum: 2, roles: ['admin'], allowSelf: false });
    assertError(await post(h.admin, 'writ.BreakGlass', { approvalId: grant.id, commandHash: grant.hash, reason: 'I am in a hurry' }), 'FORBIDDEN');
    assertError(await post(h.admin, 'writ.Approve', { approvalId: self.body.approval.id, commandHash: self.body.commandHash }), 'SELF_APPROVAL');
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'alice'), []);
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'admin'), ['admin']);
    assert.equal((await approvalDoc(h, grant.id)).status, 'pending');
  });
});

describeEachBackend('separation of duties on held commands', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let opal: Signer;
  let olga: Signer;
  let bob: Signer;
  let ann: Signer;
  let abe: Signer;
  let dee: Signer;
  let cy: Signer;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    // Role ops may request grants, each held for one admin's approval, so that break-glass has something to run.
    writeFileSync(
      join(h.home, 'policies', 'ops.cedar'),
      '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"ops", action in [Writ::Action::"AssignRole", Writ::Action::"GrantEntitlement", Writ::Action::"writ.RegisterKey", Writ::Action::"writ.SetFlag"], resource);\n',
    );
    await h.restart();
    post = poster(h, clock);
    opal = await h.actor('opal', ['ops']);
    olga = await h.actor('olga', ['breakglass']);
    bob = await h.actor('bob', ['breakglass']);
    ann = await h.actor('ann', ['admin']);
    abe = await h.actor('abe', ['admin']);
    dee = await h.actor('dee', ['admin']);
    cy = await h.actor('cy');
  });
  after(() => h.close());

  const breakGlass = (signer: Signer, cmd: Held) => post(signer, 'writ.BreakGlass', { approvalId: cmd.id, commandHash: cmd.hash, reason: 'incident 42' });
  const approve = (signer: Signer, cmd: Held) => post(signer, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash });
  const closeReview = (signer: Signer, cmd: Held) => post(signer, 'writ.CloseReview', { reviewId: cmd.id, note: 'reviewed' });

  it('refuses to let the breaker break the glass on a command it requested (SELF_APPROVAL, naming who else may)', async () => {
    await systemGrant(h, 'olga', 'admin');
    const cmd = await held(h, clock, olga, 'AssignRole', { actor: 'cy', role: 'admin' });
    const res = await breakGlass(olga, cmd);
    assertError(res, 'SELF_APPROVAL');
    assert.match(res.body.message, /olga requested this command.*another holder of role breakglass/);
    assert.equal((await approvalDoc(h, cmd.id)).status, 'pending');
    assertOk(await post(olga, 'writ.Reject', { approvalId: cmd.id, commandHash: cmd.hash, reason: 'withdrawn' }));
    assertOk(await post(h.admin, 'RevokeRole', { actor: 'olga', role: 'admin' }));
  });

  const grants: Array<[string, string, () => Record<string, unknown>]> = [
    ['a role (AssignRole)', 'AssignRole', () => ({ actor: 'olga', role: 'editor' })],
    ['an entitlement (GrantEntitlement)', 'GrantEntitlement', () => ({ subject: 'olga', entitlement: 'support-console' })],
    ['the lifting of its own flag (writ.SetFlag)', 'writ.SetFlag', () => ({ subject: 'actor:olga', flag: 'none' })],
  ];
  for (const [what, action, payload] of grants) {
    it(`refuses to let the breaker break the glass on a command that grants it ${what}; another breaker may`, async () => {
      const cmd = await held(h, clock, opal, action, payload());
      assert.equal((await approvalDoc(h, cmd.id)).beneficiary, 'olga');
      const res = await breakGlass(olga, cmd);
      assertError(res, 'SELF_APPROVAL');
      assert.match(res.body.message, /olga is the beneficiary of this command.*another holder of role breakglass/);
      assert.equal((await approvalDoc(h, cmd.id)).status, 'pending');
      assert.equal(assertOk(await breakGlass(bob, cmd)).result.status, 'executed');
    });
  }

  it('refuses a key for the breaker already when it is requested: only a holder of breakglass adds keys to itself', async () => {
    const res = await post(opal, 'writ.RegisterKey', { actor: 'olga', keyId: `olga#${rid()}`, alg: 'ed25519', publicKey: newSigner('x').publicPem });
    assertError(res, 'FORBIDDEN');
    assert.match(res.body.message, /only olga may add a key to itself/);
  });

  it('names no beneficiary for a command that grants nobody in particular (lifting a tenant-wide flag)', async () => {
    const lift = await held(h, clock, opal, 'writ.SetFlag', { subject: 'tenant', flag: 'none' });
    assert.equal((await approvalDoc(h, lift.id)).beneficiary, undefined);
    assert.equal(assertOk(await breakGlass(olga, lift)).result.status, 'executed');
  });

  it('does not count the beneficiary of a grant among its approvers, even an admin', async () => {
    const cmd = await held(h, clock, h.admin, 'AssignRole', { actor: 'ann', role: 'breakglass' });
    const res = await approve(ann, cmd);
    assertError(res, 'SELF_APPROVAL');
    assert.match(res.body.message, /ann is the beneficiary of this command/);
    assert.equal(assertOk(await approve(abe, cmd)).result.status, 'pending');
    assert.equal(assertOk(await approve(dee, cmd)).result.status, 'executed');
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'ann'), ['admin', 'breakglass']);
    assertOk(await post(h.admin, 'RevokeRole', { actor: 'ann', role: 'breakglass' }));
  });

  it('lets only an admin who is neither the requester, the breaker nor the beneficiary close a break-glass review', async () => {
    const cmd = await held(h, clock, ann, 'AssignRole', { actor: 'cy', role: 'admin' });
    assert.equal(assertOk(await breakGlass(bob, cmd)).result.status, 'executed');
    await systemGrant(h, 'bob', 'admin');
    for (const [signer, who] of [[cy, 'cy is the beneficiary'], [ann, 'ann requested'], [bob, 'bob broke the glass']] as const) {
      const res = await closeReview(signer, cmd);
      assertError(res, 'SELF_APPROVAL');
      assert.match(res.body.message, new RegExp(who));
    }
    assertError(await closeReview(opal, cmd), 'FORBIDDEN');
    const review = (await h.get(`/v1/entities/${h.tenant}/review/${cmd.id}`)).body.doc;
    assert.deepEqual([review.status, review.requester, review.openedBy, review.beneficiary], ['open', 'ann', 'bob', 'cy']);
    assert.equal(assertOk(await closeReview(abe, cmd)).result.status, 'closed');
  });
});

describe('the airlock and the beneficiary', () => {
  const key = Buffer.from('writ separation of duties, 32 b!', 'ascii');
  // 5 s into a TOTP window, so that the code computed here is the server's current one.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  let h: Harness;
  let post: Post;
  before(async () => {
    h = await startAirlockHarness(clock, key);
    // Role ops may grant roles, each after a publisher's approval and the airlock.
    writeFileSync(join(h.home, 'policies', 'ops.cedar'), '@approval("quorum=1 roles=publisher")\n@airlock("floor=120 ceiling=600")\npermit (principal in Writ::Role::"ops", action == Writ::Action::"AssignRole", resource);\n');
    await h.restart();
    post = poster(h, clock);
  });
  after(() => h.close());

  it('refuses to let the beneficiary of an approved grant stage it, though it holds the approving role; another approver may', async () => {
    const opal = await h.actor('opal', ['ops']);
    const pia = await h.actor('pia', ['publisher']);
    const pat = await h.actor('pat', ['publisher']);
    const cmd = await held(h, clock, opal, 'AssignRole', { actor: 'pia', role: 'editor' });
    assertError(await post(pia, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }), 'SELF_APPROVAL');
    assert.equal(assertOk(await post(pat, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash })).result.status, 'approved');
    const code = refHotp(key, Math.floor(clock.ms / 30_000));
    const res = await post(pia, 'writ.Stage', { approvalId: cmd.id, code });
    assertError(res, 'SELF_APPROVAL');
    assert.match(res.body.message, /pia is the beneficiary of this command.*may not stage or land it/);
    assert.equal(assertOk(await post(pat, 'writ.Stage', { approvalId: cmd.id, code })).result.airlock, 'staged', 'the code was good: only who presented it was refused');
  });
});

describe("a deployment pack's grants", () => {
  const clock = new ManualClock();
  let h: Harness;
  const pack = (beneficiary: string, required: string) =>
    ['pack: clubs', 'scroll: clubs', 'actions:', '  AdmitMember:', '    description: Admit a member to a club.', '    entity: membership', '    id: "{club}:{member}"', '    effect: upsert', '    event: member.admitted', `    beneficiary: "${beneficiary}"`, `    payload: { type: object, additionalProperties: false, required: [${required}], properties: { club: { type: string }, member: { type: string } } }`, ''].join('\n');
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now });
    mkdirSync(join(h.home, 'packs', 'clubs'), { recursive: true });
    writeFileSync(join(h.home, 'packs', 'clubs', 'actions.yaml'), pack('actor:{member}', 'club, member'));
    writeFileSync(join(h.home, 'packs', 'clubs', 'policies.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"clerk", action in Writ::Action::"pack:clubs", resource);\n');
    await h.restart();
  });
  after(() => h.close());

  it('declare their beneficiary in actions.yaml, and it is kept from deciding as the built-in ones are', async () => {
    const post = poster(h, clock);
    const clerk = await h.actor('clerk', ['clerk']);
    const kim = await h.actor('kim', ['admin', 'breakglass']);
    const cmd = await held(h, clock, clerk, 'AdmitMember', { club: 'chess', member: 'kim' });
    assert.equal((await approvalDoc(h, cmd.id)).beneficiary, 'kim');
    assertError(await post(kim, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }), 'SELF_APPROVAL');
    assertError(await post(kim, 'writ.BreakGlass', { approvalId: cmd.id, commandHash: cmd.hash, reason: 'mine' }), 'SELF_APPROVAL');
    assert.equal(assertOk(await post(h.admin, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash })).result.status, 'executed');
  });

  it('refuse to load when the beneficiary names a payload field that may be missing', async () => {
    writeFileSync(join(h.home, 'packs', 'clubs', 'actions.yaml'), pack('actor:{member}', 'club'));
    await assert.rejects(openWrit(loadConfig(h.home)), /the beneficiary of AdmitMember names member, which its payload does not require/);
    writeFileSync(join(h.home, 'packs', 'clubs', 'actions.yaml'), pack('actor:{member}', 'club, member'));
  });
});
