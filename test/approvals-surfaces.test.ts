import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { CODES } from '../src/core/codes.js';
import type { Signer } from '../src/sdk/sign.js';
import { held, poster, type Held, type Post } from './support/approvals.js';
import { runWrit } from './support/cli.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, ManualClock } from './support/stage-helpers.js';

/** The read side of approvals over HTTP (list, show with a preview) and `writ approvals` on the command line. */
describeEachBackend('GET /v1/approvals', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let erin: Signer;
  let paul: Signer;
  const cmds: Held[] = [];
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    post = poster(h, clock);
    erin = await h.actor('erin', ['editor']);
    paul = await h.actor('paul', ['publisher']);
    for (const pageId of ['a', 'b', 'c']) {
      assertOk(await post(erin, 'SaveDraftPage', { pageId, title: pageId.toUpperCase(), blocks: [{ type: 'text' }] }));
      assertOk(await post(erin, 'SubmitForReview', { pageId }));
      assertOk(await post(paul, 'ApproveContent', { pageId }));
      cmds.push(await held(h, clock, erin, 'PublishPageVersion', { pageId }));
      clock.advance(1000);
    }
    assertOk(await post(paul, 'writ.Approve', { approvalId: cmds[1].id, commandHash: cmds[1].hash }));
    assertOk(await post(paul, 'writ.Reject', { approvalId: cmds[2].id, commandHash: cmds[2].hash, reason: 'no' }));
  });
  after(() => h.close());

  const list = (query: string) => h.get(`/v1/approvals?${query}`);

  it("lists the tenant's approvals oldest first, without their envelopes, with their deadlines", async () => {
    const res = await list(`tenant=${h.tenant}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.items.map((a: any) => [a.id, a.status]), [[cmds[0].id, 'pending'], [cmds[1].id, 'executed'], [cmds[2].id, 'rejected']]);
    assert.equal(res.body.next, null);
    const [first] = res.body.items;
    assert.equal(first.envelope, undefined);
    assert.equal(first.requester, 'erin');
    assert.deepEqual(first.deadlines, { expiresAt: cmds[0].answer.approval.expiresAt, secondsLeft: 7200 - 3, lapsed: false });
  });

  it('filters by status (pending from the open-approval index) and refuses an unknown status', async () => {
    for (const [status, expected] of [['pending', [cmds[0].id]], ['executed', [cmds[1].id]], ['rejected', [cmds[2].id]], ['expired', []]] as const) {
      const res = await list(`status=${status}`);
      assert.deepEqual(res.body.items.map((a: any) => a.id), expected, status);
    }
    assertError(await list('status=maybe'), 'INVALID_ENVELOPE');
  });

  it('pages with limit and after', async () => {
    const first = await list('limit=2');
    assert.equal(first.body.items.length, 2);
    const second = await list(`limit=2&after=${first.body.next}`);
    assert.deepEqual(second.body.items.map((a: any) => a.id), [cmds[2].id]);
    assert.equal(second.body.next, null);
  });

  it('shows one pending approval: the command, a preview of its effect on current state, decisions and deadline', async () => {
    const res = await h.get(`/v1/approvals/${cmds[0].id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.command, cmds[0].envelope);
    assert.deepEqual(res.body.pendingRecord, { log: cmds[0].answer.receipt.log, index: cmds[0].answer.receipt.index });
    assert.deepEqual([res.body.approvals, res.body.rejections, res.body.answer], [[], [], null]);
    const preview = res.body.preview;
    assert.equal(preview.ok, true);
    const page = (await h.get(`/v1/entities/${h.tenant}/page/a`)).body;
    const pageWrite = preview.writes.find((w: any) => w.type === 'page');
    assert.equal(pageWrite.version, page.version + 1);
    assert.equal(pageWrite.doc.status, 'published');
    assert.ok(preview.writes.some((w: any) => w.type === 'page-version' && w.id === 'a@1' && w.version === 1));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page/a`)).body.version, page.version, 'a preview writes nothing');
  });

  it('previews the refusal a pending command would meet now', async () => {
    assertOk(await post(paul, 'LockContent', { pageId: 'a' }));
    const preview = (await h.get(`/v1/approvals/${cmds[0].id}`)).body.preview;
    assert.deepEqual([preview.ok, preview.code], [false, 'INVALID_STATE']);
    assertOk(await post(paul, 'UnlockContent', { pageId: 'a' }));
  });

  it('shows an ended approval with its final answer instead of a preview', async () => {
    const executed = (await h.get(`/v1/approvals/${cmds[1].id}`)).body;
    assert.equal(executed.preview, null);
    assert.equal(executed.answer.status, 'OK');
    assert.deepEqual(executed.answer.approval, { id: cmds[1].id, status: 'executed' });
    const rejected = (await h.get(`/v1/approvals/${cmds[2].id}`)).body;
    assert.equal(rejected.answer.code, 'APPROVAL_REJECTED');
  });

  it('answers NOT_FOUND for an unknown approval, FORBIDDEN for another tenant', async () => {
    assertError(await h.get('/v1/approvals/no-such-id'), 'NOT_FOUND');
    assertError(await h.get(`/v1/approvals/${cmds[0].id}?tenant=other`), 'FORBIDDEN');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await h.get('/openapi.json')).body;
    assert.ok(doc.paths['/v1/approvals'].get);
    assert.ok(doc.paths['/v1/approvals/{id}'].get);
  });
});

describeEachBackend('writ approvals (command line)', (backend) => {
  let h: Harness;
  let url: string;
  let paulKey: string;
  let erin: Signer;
  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { backend });
    erin = await h.actor('erin', ['editor']);
    const paul = newSigner('paul#1');
    const reg = await h.post(h.sign('writ.RegisterKey', { actor: 'paul', keyId: paul.keyId, alg: 'ed25519', publicKey: paul.publicPem }));
    assert.equal(reg.status, 200, reg.raw);
    assertOk(await h.post(h.sign('AssignRole', { actor: 'paul', role: 'publisher' })));
    paulKey = join(h.home, 'keys', 'paul.key');
    writeFileSync(paulKey, paul.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    for (const pageId of ['x', 'y']) {
      for (const [action, payload] of [['SaveDraftPage', { pageId, blocks: [{ type: 'text' }] }], ['SubmitForReview', { pageId }]] as const) assertOk(await h.post(h.sign(action, payload, {}, erin)));
      assertOk(await h.post(h.sign('ApproveContent', { pageId }, {}, paul)));
    }
    url = await h.listen();
  });
  after(() => h.close());

  const writ = (...args: string[]) => runWrit(['--home', h.home, '--url', url, ...args]);
  const asPaul = () => ['--key', paulKey, '--key-id', 'paul#1'];

  it('lists, shows, approves (bound to the reviewed hash) and rejects', async () => {
    const x = (await h.post(h.sign('PublishPageVersion', { pageId: 'x' }, {}, erin))).body;
    const y = (await h.post(h.sign('PublishPageVersion', { pageId: 'y' }, {}, erin))).body;
    const listed = await writ('approvals', 'list', '--status', 'pending');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((a: any) => a.id), [x.approval.id, y.approval.id]);
    const shown = await writ('approvals', 'show', x.approval.id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).commandHash, x.commandHash);

    const wrong = await writ('approvals', 'approve', x.approval.id, ...asPaul(), '--hash', 'deadbeef');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /holds the command [0-9a-f]{64}, not deadbeef/);
    const approved = await writ('approvals', 'approve', x.approval.id, ...asPaul(), '--hash', x.commandHash.slice(0, 12));
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.equal(JSON.parse(approved.stdout).result.status, 'executed');
    const again = await writ('approvals', 'approve', x.approval.id, ...asPaul());
    assert.equal(again.code, CODES.INVALID_STATE.exit);

    const rejected = await writ('approvals', 'reject', y.approval.id, ...asPaul(), '--reason', 'not today');
    assert.equal(rejected.code, 0, rejected.stdout + rejected.stderr);
    assert.equal((await h.get(`/v1/commands/${h.tenant}/${y.requestId}`)).body.code, 'APPROVAL_REJECTED');
    const none = await writ('approvals', 'list', '--status', 'pending');
    assert.deepEqual(JSON.parse(none.stdout), []);
  });
});
