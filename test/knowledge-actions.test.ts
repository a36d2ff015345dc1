import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base32Encode } from '../src/approvals/totp.js';
import type { Signer } from '../src/sdk/sign.js';
import { loadConfig } from '../src/config/config.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { held, poster, type Post } from './support/approvals.js';
import { startHarness, type Harness } from './support/harness.js';
import { entry, git, refs } from './support/knowledge.js';
import { assertError, assertOk, leaves, ManualClock } from './support/stage-helpers.js';
import { refHotp } from './support/reference.js';
import { knowledgeOf } from '../src/packs/knowledge/pack.js';

const KEY = Buffer.from('writ knowledge test key, 32 bytes', 'ascii');

/**
 * The knowledge pack through the real server and a real git (issue 13): each action, the human
 * gate (practitioner approval + TOTP airlock) on Land, and each bad input refused with a typed
 * code, no ref moved and no record but the refusal.
 */
describe('the knowledge pack', () => {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const window = () => Math.floor(clock.ms / 30_000);
  let h: Harness;
  let post: Post;
  let ada: Signer;
  let bob: Signer;
  let pia: Signer;
  let n = 0;

  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false }, intake: { maxBytes: 1024 * 1024 } }, { now: clock.now });
    writeFileSync(join(h.home, 'keys', 'totp.secret'), base32Encode(KEY) + '\n', { mode: 0o600 });
    await h.restart();
    post = poster(h, clock);
    ada = await h.actor('ada', ['instance']);
    bob = await h.actor('bob', ['instance']);
    pia = await h.actor('pia', ['practitioner']);
  });
  after(() => h.close());

  const commit = (who: Signer, actor: string, writes: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) =>
    post(who, 'KipCommit', { perspective: actor, message: `change ${++n}`, writes, ...extra }, envelope);

  /** Lands proposal `id` at `head`: Land is held, a practitioner approves, stages and lands it with two codes after the floor. */
  async function landThroughGate(who: Signer, id: string, head: string): Promise<any> {
    const cmd = await held(h, clock, who, 'Land', { proposalId: id, head });
    assert.deepEqual(cmd.answer.approval.requirement.roles, ['practitioner']);
    assertOk(await post(pia, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }));
    clock.advance(30_000);
    assertOk(await post(pia, 'writ.Stage', { approvalId: cmd.id, code: refHotp(KEY, window()) }));
    clock.advance(150_000);
    const landed = assertOk(await post(pia, 'writ.Land', { hashPrefix: cmd.hash.slice(0, 12), code: refHotp(KEY, window()) }));
    assert.equal(landed.result.status, 'executed');
    const final = await h.get(`/v1/commands/${h.tenant}/${cmd.envelope.requestId}`);
    return final.body;
  }

  it('commits entries to the actor\'s own perspective as a real git commit, authored by the actor at the record\'s time', async () => {
    const res = assertOk(await commit(ada, 'ada', [{ path: 'notes/alpha.md', content: entry('Alpha') }]));
    const r = await refs(h);
    assert.equal(r['refs/perspectives/ada'], res.result.commit);
    assert.equal(git(h, 'show', 'refs/perspectives/ada:notes/alpha.md'), entry('Alpha').trim());
    assert.equal(git(h, 'log', '-1', '--format=%an %at', 'refs/perspectives/ada'), `ada ${Math.floor(clock.ms / 1000)}`);
    assert.equal(git(h, 'fsck', '--strict', '--no-dangling'), '', 'git finds the repository sound');
  });

  it('makes two writers of one perspective conflict instead of overwriting (expectedVersion or parent)', async () => {
    const before = (await refs(h))['refs/perspectives/ada'];
    assertError(await commit(ada, 'ada', [{ path: 'notes/beta.md', content: entry('Beta') }], {}, { expectedVersion: 5 }), 'VERSION_CONFLICT');
    assertError(await commit(ada, 'ada', [{ path: 'notes/beta.md', content: entry('Beta') }], { parent: 'f'.repeat(40) }), 'VERSION_CONFLICT');
    assert.equal((await refs(h))['refs/perspectives/ada'], before);
    assertOk(await commit(ada, 'ada', [{ path: 'notes/beta.md', content: entry('Beta') }], { parent: before }, { expectedVersion: 1 }));
  });

  it('refuses a write to another actor\'s perspective, and any knowledge write to a key holder without a role', async () => {
    assertError(await commit(bob, 'ada', [{ path: 'notes/x.md', content: entry('X') }]), 'FORBIDDEN');
    const nobody = await h.actor('nobody');
    assertError(await commit(nobody, 'nobody', [{ path: 'notes/x.md', content: entry('X') }]), 'FORBIDDEN');
    assertError(await post(nobody, 'SendMessage', { messageId: 'spam', to: 'practitioner', subject: 'spam', body: '' }), 'FORBIDDEN');
  });

  const badInputs: Array<[string, Record<string, unknown>]> = [
    ['a path with ..', { path: 'notes/../../etc.md', content: entry('Up') }],
    ['an absolute path', { path: '/etc/passwd.md', content: entry('Abs') }],
    ['a path into .git', { path: '.git/config.md', content: entry('Git') }],
    ['a path that is not an entry', { path: 'notes/script.sh', content: entry('Sh') }],
    ['non-UTF-8 bytes', { path: 'notes/bin.md', base64: Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0xfe, 0x0a]).toString('base64') }],
    ['an oversize entry', { path: 'notes/big.md', base64: Buffer.alloc(300 * 1024, 0x61).toString('base64').slice(0, 349528) }],
    ['an entry without front matter', { path: 'notes/plain.md', content: '# Plain\n' }],
  ];
  for (const [what, write] of badInputs) {
    it(`refuses ${what} with INVALID_PAYLOAD, moving no ref and recording only the refusal`, async () => {
      const refsBefore = await refs(h);
      const logBefore = (await leaves(h, 'knowledge')).length;
      const res = await commit(ada, 'ada', [write]);
      assertError(res, 'INVALID_PAYLOAD');
      assert.deepEqual(await refs(h), refsBefore);
      const after = await leaves(h, 'knowledge');
      assert.equal(after.length, logBefore + 1);
      assert.equal(after.at(-1)!.outcome, 'REJECTED');
    });
  }

  it('proposes with a preview, and lands only through a practitioner\'s approval and the airlock; the record names the merged commit', async () => {
    const head = (await refs(h))['refs/perspectives/ada'];
    const prop = assertOk(await post(ada, 'Propose', { proposalId: 'p1', title: 'Alpha and beta' }));
    assert.deepEqual(prop.result.changedPaths, ['notes/alpha.md', 'notes/beta.md']);
    assert.deepEqual(prop.result.conflicts, []);
    assert.equal((await refs(h))['refs/proposals/p1'], head);
    assert.equal((await refs(h))['refs/heads/canon'], undefined, 'nothing lands on a proposal');
    assertError(await post(ada, 'Land', { proposalId: 'p1', head: 'a'.repeat(40) }), 'VERSION_CONFLICT', 'a forged hash');
    const final = await landThroughGate(ada, 'p1', head);
    assert.equal(final.status, 'OK');
    assert.equal(final.result.seq, 1);
    const canon = (await refs(h))['refs/heads/canon'];
    assert.equal(final.result.commit, canon);
    assert.deepEqual(git(h, 'log', '-1', '--format=%P', canon)!.split(' ').at(-1), head, 'the landing commit has the proposal as its last parent');
    assert.equal(git(h, 'show', 'refs/heads/canon:notes/beta.md'), entry('Beta').trim());
    assertError(await post(ada, 'Land', { proposalId: 'p1', head }), 'INVALID_STATE', 'a landed proposal lands once');
  });

  it('refuses to land a retracted proposal', async () => {
    assertOk(await commit(ada, 'ada', [{ path: 'notes/gamma.md', content: entry('Gamma') }]));
    const prop = assertOk(await post(ada, 'Propose', { proposalId: 'p2', title: 'Gamma' }));
    assert.deepEqual(prop.result.changedPaths, ['notes/gamma.md'], 'only what is new since the last landing');
    assertError(await post(bob, 'RetractProposal', { proposalId: 'p2' }), 'FORBIDDEN');
    assertOk(await post(ada, 'RetractProposal', { proposalId: 'p2' }));
    assert.equal((await refs(h))['refs/proposals/p2'], undefined);
    assertError(await post(ada, 'Land', { proposalId: 'p2', head: prop.result.head }), 'INVALID_STATE');
  });

  it('names the conflict of a proposal that no longer merges, and changes nothing', async () => {
    assertOk(await commit(bob, 'bob', [{ path: 'notes/delta.md', content: entry('Delta', 'bob says') }]));
    const bobProp = assertOk(await post(bob, 'Propose', { proposalId: 'p3', title: 'Delta by bob' }));
    assertOk(await commit(ada, 'ada', [{ path: 'notes/delta.md', content: entry('Delta', 'ada says') }]));
    const adaProp = assertOk(await post(ada, 'Propose', { proposalId: 'p4', title: 'Delta by ada' }));
    await landThroughGate(ada, 'p4', adaProp.result.head);
    const canon = (await refs(h))['refs/heads/canon'];
    const res = await post(bob, 'Land', { proposalId: 'p3', head: bobProp.result.head });
    assertError(res, 'INVALID_STATE');
    assert.deepEqual(res.body.details.conflicts, ['notes/delta.md']);
    assert.equal((await refs(h))['refs/heads/canon'], canon);
  });

  it('carries messages between instances and the practitioner; only the recipient marks one read', async () => {
    assertOk(await post(bob, 'SendMessage', { messageId: 'm1', to: 'practitioner', subject: 'Please review p3', body: 'It conflicts.' }));
    assertError(await post(bob, 'SendMessage', { messageId: 'm1', to: 'practitioner', subject: 'Again', body: '' }), 'INVALID_STATE');
    assertError(await post(ada, 'MarkRead', { messageId: 'm1', to: 'practitioner' }), 'FORBIDDEN');
    assertError(await post(pia, 'MarkRead', { messageId: 'nope', to: 'practitioner' }), 'NOT_FOUND');
    const read = assertOk(await post(pia, 'MarkRead', { messageId: 'm1', to: 'practitioner' }));
    assert.equal(read.result.readAt, clock.iso());
  });

  it('reads the canon to any member: kip_get, kip_log, seq and ranked search', async () => {
    const k = (path: string) => `/v1/knowledge/${h.tenant}${path}`;
    const seq = await h.getAs(k('/seq'), bob);
    assert.deepEqual(seq.body, { seq: 2, head: (await refs(h))['refs/heads/canon'] });
    const got = await h.getAs(k('/entry?path=notes/delta.md'), bob);
    assert.match(got.body.content, /ada says/);
    const log = await h.getAs(k('/log'), bob);
    assert.deepEqual(log.body.commits.slice(0, 2).map((c: any) => c.message.split('\n')[0]), ['Land proposal p4: Delta by ada', 'Land proposal p1: Alpha and beta']);
    await knowledgeOf(h.writ).search.settled();
    const hits = await h.getAs(k('/search?q=beta&ref=canon'), bob);
    assert.deepEqual(hits.body.hits.map((x: any) => x.path), ['notes/beta.md'], 'the entry titled Beta ranks first');
  });

  it('keeps writ verify clean with knowledge commands in the log (the replay recomputes every commit id)', async () => {
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
  });
});
