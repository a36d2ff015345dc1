import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { jcs } from '../src/canonical/jcs.js';
import { sha256Hex } from '../src/core/hash.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertError, leavesFor, ManualClock } from './support/stage-helpers.js';

/**
 * Commands whose policy asks for approval (DESIGN §5), through the real pipeline and store: they
 * are held, not applied — a 202 answer, a PENDING record, an approval entity, a stored outcome.
 */
describeEachBackend('a command held for approval', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let editor: Signer;
  let publisher: Signer;
  before(async () => {
    h = await startHarness({}, { now: clock.now, backend });
    editor = await h.actor('erin', ['editor']);
    publisher = await h.actor('paul', ['publisher']);
    for (const [signer, action] of [[editor, 'SaveDraftPage'], [editor, 'SubmitForReview'], [publisher, 'ApproveContent']] as const) {
      const res = await as(signer, action, action === 'SaveDraftPage' ? { pageId: 'home', blocks: [{ type: 'text' }] } : { pageId: 'home' });
      assert.equal(res.status, 200, res.raw);
    }
  });
  after(() => h.close());

  const as = (signer: Signer, action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    h.post(h.sign(action, payload, { timestamp: clock.iso(), ...extra }, signer));

  let envelope: Record<string, any>;
  let answer: any;

  it('answers 202 PENDING_APPROVAL with the approval id, requirement, deadline and a receipt', async () => {
    envelope = h.sign('PublishPageVersion', { pageId: 'home' }, { timestamp: clock.iso() }, editor);
    const res = await h.post(envelope);
    assert.equal(res.status, 202, res.raw);
    answer = res.body;
    assert.deepEqual(Object.keys(answer).sort(), ['approval', 'commandHash', 'receipt', 'requestId', 'status']);
    assert.equal(answer.status, 'PENDING_APPROVAL');
    assert.equal(answer.requestId, envelope.requestId);
    assert.match(answer.approval.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(answer.approval.expiresAt, new Date(clock.ms + 7200_000).toISOString());
    assert.deepEqual({ ...answer.approval.requirement, policy: undefined }, { quorum: 1, roles: ['publisher', 'admin'], ttlSeconds: 7200, allowSelf: false, airlock: null, policy: undefined });
    assert.equal(answer.receipt.log, `writ.local/${h.tenant}/content`);
  });

  it('applies nothing: the page is still approved and has no published version', async () => {
    const page = (await h.get(`/v1/entities/${h.tenant}/page/home`)).body.doc;
    assert.equal(page.status, 'approved');
    assert.equal(page.live, null);
  });

  it('writes one PENDING record of the command in its own log, committing to the approval', async () => {
    const records = await leavesFor(h, 'content', envelope.requestId);
    assert.equal(records.length, 1);
    const [r] = records;
    assert.deepEqual([r.actor, r.action, r.outcome, r.code, r.target, r.version], ['erin', 'PublishPageVersion', 'PENDING', null, 'page/home', null]);
    assert.equal(r.index, answer.receipt.index);
    assert.equal(r.commandHash, answer.commandHash);
    assert.equal(r.resultHash, sha256Hex(jcs(answer.approval)));
  });

  it('keeps an approval entity with everything needed to decide and to run the command later', async () => {
    const res = await h.get(`/v1/entities/${h.tenant}/approval/${answer.approval.id}`);
    assert.equal(res.status, 200);
    const doc = res.body.doc;
    assert.equal(res.body.version, 1);
    assert.deepEqual(
      { status: doc.status, tenant: doc.tenant, requester: doc.requester, requestId: doc.requestId, commandHash: doc.commandHash, action: doc.action, target: doc.target },
      { status: 'pending', tenant: h.tenant, requester: 'erin', requestId: envelope.requestId, commandHash: answer.commandHash, action: 'PublishPageVersion', target: 'page/home' },
    );
    assert.deepEqual(doc.envelope, envelope);
    assert.deepEqual(doc.requirement, answer.approval.requirement);
    assert.equal(doc.createdAt, clock.iso());
    assert.equal(doc.expiresAt, answer.approval.expiresAt);
    assert.deepEqual(doc.pending, { scroll: 'content', index: answer.receipt.index });
    assert.deepEqual([doc.approvals, doc.rejections], [[], []]);
    const open = await h.get(`/v1/entities/${h.tenant}/approval-open/${answer.approval.id}`);
    assert.deepEqual(open.body.doc, { approvalId: answer.approval.id, expiresAt: answer.approval.expiresAt, requester: 'erin', requestId: envelope.requestId });
  });

  it('stores the 202 answer as the outcome of the requestId: status endpoint and replay return it', async () => {
    const status = await h.get(`/v1/commands/${h.tenant}/${envelope.requestId}`);
    assert.equal(status.status, 200);
    assert.equal(status.headers['writ-command-status'], '202');
    assert.deepEqual(status.body, answer);
    const replay = await h.post(envelope);
    assert.equal(replay.status, 202);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.body, answer);
    assert.equal((await leavesFor(h, 'content', envelope.requestId)).length, 1, 'a replay writes nothing');
  });

  it('emits one approval.requested outbox event', async () => {
    const before = await h.writ.store.countOutbox();
    const res = await as(editor, 'PublishPageVersion', { pageId: 'home' });
    assert.equal(res.status, 202, res.raw);
    assert.equal(await h.writ.store.countOutbox(), before + 1);
  });

  it('is refused at once, not held, when it could not run now (the handler is planned first)', async () => {
    const res = await as(editor, 'PublishPageVersion', { pageId: 'nowhere' });
    assertError(res, 'NOT_FOUND');
    const [r] = await leavesFor(h, 'content', res.body.requestId);
    assert.deepEqual([r.outcome, r.code], ['REJECTED', 'NOT_FOUND']);
  });

  it('stays held across a restart (it is state, not memory); an approval after it runs the command', async () => {
    await h.restart();
    const res = await h.post(h.sign('writ.Approve', { approvalId: answer.approval.id, commandHash: answer.commandHash }, { timestamp: clock.iso() }, publisher));
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.body.result.status, 'executed');
    const replay = await h.post(envelope);
    assert.equal(replay.status, 200, replay.raw);
    assert.equal(replay.body.status, 'OK');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page/home`)).body.doc.status, 'published');
  });

  it('is refused at once when its expectedVersion is already wrong', async () => {
    assertError(await as(editor, 'PublishPageVersion', { pageId: 'home' }, { expectedVersion: 9 }), 'VERSION_CONFLICT');
  });
});
