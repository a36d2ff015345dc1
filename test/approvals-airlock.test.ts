import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { base32Encode } from '../src/approvals/totp.js';
import { CODES } from '../src/core/codes.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, startAirlockHarness, type Held, type Post } from './support/approvals.js';
import { runWrit } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, leaves, leavesFor, ManualClock } from './support/stage-helpers.js';
import { refHotp } from './support/reference.js';

/**
 * The TOTP airlock in the pipeline (DESIGN §5, issue 4): a command whose permit carries
 * `@airlock` runs only after its approvals, a staging code, the review floor and a landing code.
 * Codes come from an independent RFC 6238 implementation on node:crypto; the clock is injected.
 */
const KEY = Buffer.from('writ airlock e2e key, 32 bytes!!', 'ascii');

/** RFC 6238, SHA-1, 6 digits, for window `window`: the independent HOTP of test/support/reference.ts. */
function refCode(window: number): string {
  return refHotp(KEY, window);
}

describeEachBackend('the airlock', (backend) => {
  // 5 s into a window, so that "now" and the windows the tests compute agree.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let h: Harness;
  let post: Post;
  let mia: Signer;
  let paul: Signer;
  let n = 0;
  before(async () => {
    h = await startAirlockHarness(clock, KEY, backend);
    post = poster(h, clock);
    mia = await h.actor('mia', ['merch']);
    paul = await h.actor('paul', ['publisher']);
  });
  after(() => h.close());

  /** A product upsert held for the airlock and approved by a publisher. */
  async function approved(): Promise<Held> {
    const cmd = await held(h, clock, mia, 'UpsertProduct', { sku: `air-${++n}`, name: 'Air', price: { amount: 1, currency: 'EUR' } });
    assert.deepEqual(cmd.answer.approval.requirement.airlock, { floorSeconds: 120, ceilingSeconds: 600 });
    // A policy of the home is named relative to the home, never by its absolute path.
    assert.equal(cmd.answer.approval.requirement.policy, 'policies/airlock.cedar#0');
    assert.equal((await approvalDoc(h, cmd.id)).requirement.policy, 'policies/airlock.cedar#0');
    assert.ok(!JSON.stringify(cmd.answer).includes(h.home));
    const res = assertOk(await post(paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }));
    assert.deepEqual(res.result, { approvalId: cmd.id, status: 'approved', approvals: 1, quorum: 1 });
    return cmd;
  }
  /** Stages with the current window's code, in a window no earlier test has spent. */
  async function staged(cmd: Held): Promise<number> {
    clock.advance(30_000);
    assertOk(await post(paul, 'writ.Stage', { approvalId: cmd.id, code: refCode(window()) }));
    return window();
  }
  const land = (cmd: Held, code: string) => post(paul, 'writ.Land', { hashPrefix: cmd.hash.slice(0, 12), code });
  const product = async (cmd: Held) => (await h.get(`/v1/entities/${h.tenant}/product/${cmd.envelope.payload.sku}`)).status;

  it('holds an approved command until it is staged and landed after the review floor', async () => {
    const cmd = await approved();
    assert.equal(await product(cmd), 404, 'approvals alone do not run it');
    assert.deepEqual([(await approvalDoc(h, cmd.id)).status, (await approvalDoc(h, cmd.id)).airlock], ['approved', { status: 'open' }]);
    assertError(await land(cmd, refCode(window())), 'NOT_FOUND', 'no staged command has this hash');

    assertError(await post(paul, 'writ.Stage', { approvalId: cmd.id, code: refCode(window() + 5) }), 'TOTP_INVALID');
    assertError(await post(mia, 'writ.Stage', { approvalId: cmd.id, code: refCode(window()) }), 'SELF_APPROVAL');
    const stageWindow = window();
    const stage = assertOk(await post(paul, 'writ.Stage', { approvalId: cmd.id, code: refCode(stageWindow) }));
    assert.equal(stage.result.airlock, 'staged');
    assert.equal(stage.result.landableAt, new Date(clock.ms + 120_000).toISOString());

    const early = await land(cmd, refCode(window()));
    assertError(early, 'REVIEW_FLOOR_NOT_MET');
    assert.equal(early.headers['retry-after'], '120');
    clock.advance(90_000);
    const missed = refCode(window());
    assertError(await land(cmd, missed), 'REVIEW_FLOOR_NOT_MET');
    clock.advance(31_000);
    assertError(await land(cmd, refCode(stageWindow)), 'TOTP_INVALID', 'the staging code is long dead');
    const landed = assertOk(await land(cmd, missed));
    assert.equal(landed.result.status, 'executed', 'the floor miss spent nothing: its window lands now');
    assert.equal(await product(cmd), 200);
    assert.equal((await finalOutcome(h, cmd)).body.status, 'OK');
    assert.deepEqual((await leavesFor(h, 'commerce', cmd.envelope.requestId)).map((r) => r.outcome), ['PENDING', 'OK']);
    assert.equal((await approvalDoc(h, cmd.id)).airlock.status, 'landed');
  });

  it('never keeps a code: the stored bodies of Stage and Land withhold it', async () => {
    const res = await h.get(`/v1/ledger/${h.tenant}/writ/records?envelopes=true&limit=1000`);
    const bodies = res.body.records.map((r: any) => JSON.parse(r.envelope)).filter((e: any) => ['writ.Stage', 'writ.Land'].includes(e.action));
    assert.ok(bodies.length >= 5);
    for (const b of bodies) assert.equal(b.payload.code, '[withheld]');
  });

  it('spends each window once per purpose: a second staging or landing in it is TOTP_REPLAY', async () => {
    const [b, c] = [await approved(), await approved()];
    const w = await staged(b);
    assertError(await post(paul, 'writ.Stage', { approvalId: c.id, code: refCode(w) }), 'TOTP_REPLAY');
    await staged(c);
    clock.advance(150_000);
    const code = refCode(window());
    assertOk(await land(b, code));
    assertError(await land(c, code), 'TOTP_REPLAY');
    clock.advance(30_000);
    assertOk(await land(c, refCode(window())));
  });

  it('reverts for free: a reverted command is open again and may be staged anew', async () => {
    const d = await approved();
    await staged(d);
    const reverted = assertOk(await post(paul, 'writ.Revert', { approvalId: d.id }));
    assert.equal(reverted.result.reason, 'manual');
    assert.deepEqual((await approvalDoc(h, d.id)).airlock, { status: 'open' });
    assertError(await land(d, refCode(window())), 'NOT_FOUND');
    await staged(d);
    assert.equal((await approvalDoc(h, d.id)).airlock.status, 'staged');
    // Its requester may revert it too.
    assertOk(await post(mia, 'writ.Revert', { approvalId: d.id }));
  });

  it('reverts a staging past its ceiling by itself: the sweeper records it as writ', async () => {
    const e = await approved();
    await staged(e);
    clock.advance(601_000);
    assert.equal(await h.writ.sweeper.tick(), 1);
    const doc = await approvalDoc(h, e.id);
    assert.deepEqual([doc.status, doc.airlock], ['approved', { status: 'open' }]);
    const reverts = (await leaves(h, 'writ')).filter((r) => r.action === 'writ.Revert' && r.target === `approval/${e.id}`);
    assert.deepEqual(reverts.map((r) => [r.actor, r.outcome]), [['writ', 'OK']]);
    assert.match(reverts[0].requestId, new RegExp(`^revert:${e.id}:\\d+$`));
    assertError(await land(e, refCode(window())), 'NOT_FOUND');
  });

  it('notices a ceiling lazily too: landing past it is APPROVAL_EXPIRED and the revert is recorded right after', async () => {
    const f = await approved();
    await staged(f);
    clock.advance(601_000);
    const res = await land(f, refCode(window()));
    assertError(res, 'APPROVAL_EXPIRED');
    const [refused] = await leavesFor(h, 'writ', res.body.requestId);
    const records = (await h.get(`/v1/ledger/${h.tenant}/writ/records?from=${refused.index}&limit=10`)).body.records.map((r: any) => r.record);
    assert.deepEqual(records.map((r: any) => [r.actor, r.action, r.outcome]), [['paul', 'writ.Land', 'REJECTED'], ['writ', 'writ.Revert', 'OK']]);
    assert.match(records[1].requestId, new RegExp(`^revert:${f.id}:\\d+$`));
    assert.equal(await h.writ.sweeper.tick(), 0, 'nothing left for the sweeper');
  });
});

describe('writ airlock (command line)', () => {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let h: Harness;
  let url: string;
  let mia: Signer;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now });
    writeFileSync(join(h.home, 'keys', 'totp.secret'), base32Encode(KEY) + '\n', { mode: 0o600 });
    writeFileSync(join(h.home, 'policies', 'airlock.cedar'), '@approval("quorum=1 roles=admin")\n@airlock("floor=120 ceiling=600")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
    await h.restart();
    mia = await h.actor('mia', ['merch']);
    url = await h.listen();
  });
  after(() => h.close());

  const writ = (...args: string[]) => runWrit(['--home', h.home, '--url', url, ...args]);

  it('stages, reverts, stages again and lands with the admin key', async () => {
    const cmd = await held(h, clock, mia, 'UpsertProduct', { sku: 'cli-air', name: 'Air', price: { amount: 1, currency: 'EUR' } });
    assertOk(await h.post(h.sign('writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }, { timestamp: clock.iso() })));
    const stage = await writ('airlock', 'stage', cmd.id, '--code', refCode(window()));
    assert.equal(stage.code, 0, stage.stdout + stage.stderr);
    assert.equal(JSON.parse(stage.stdout).result.airlock, 'staged');
    const revert = await writ('airlock', 'revert', cmd.id);
    assert.equal(revert.code, 0, revert.stdout + revert.stderr);
    clock.advance(30_000);
    assert.equal((await writ('airlock', 'stage', cmd.id, '--code', refCode(window()))).code, 0);
    const early = await writ('airlock', 'land', cmd.hash.slice(0, 8), '--code', refCode(window()));
    assert.equal(early.code, CODES.REVIEW_FLOOR_NOT_MET.exit);
    clock.advance(121_000);
    const land = await writ('airlock', 'land', cmd.hash.slice(0, 8), '--code', refCode(window()));
    assert.equal(land.code, 0, land.stdout + land.stderr);
    assert.equal(JSON.parse(land.stdout).result.status, 'executed');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/cli-air`)).status, 200);
  });
});
