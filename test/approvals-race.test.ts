import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { ConfigInput } from '../src/config/config.js';
import type { Signer } from '../src/sdk/sign.js';
import { approvalDoc, finalOutcome, held, poster, type Post } from './support/approvals.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertOk, leavesFor, ManualClock } from './support/stage-helpers.js';

/**
 * Two approvals submitted at once, each completing the quorum on its own: the held command runs
 * exactly once, whether both land in one group-committed batch or in two batches planned while the
 * first is still being committed (the applier's overlay shows the second the approval's new version).
 */
for (const [name, config] of [
  ['one batch', {}],
  ['separate batches (apply.maxBatch = 1)', { apply: { maxBatch: 1 } }],
] as Array<[string, ConfigInput]>) {
  describeEachBackend(`two approvals racing, ${name}`, (backend) => {
    const clock = new ManualClock();
    let h: Harness;
    let post: Post;
    let erin: Signer;
    let approvers: Signer[];
    before(async () => {
      h = await startHarness({ ...config, approvals: { sweepEnabled: false } }, { now: clock.now, backend });
      post = poster(h, clock);
      erin = await h.actor('erin', ['editor']);
      approvers = [await h.actor('paul', ['publisher']), await h.actor('pia', ['publisher']), await h.actor('pat', ['publisher'])];
    });
    after(() => h.close());

    it('run the command once; every other approval is refused INVALID_STATE', async () => {
      for (let round = 0; round < 5; round++) {
        const pageId = `race-${round}`;
        assertOk(await post(erin, 'SaveDraftPage', { pageId, blocks: [{ type: 'text' }] }));
        assertOk(await post(erin, 'SubmitForReview', { pageId }));
        assertOk(await post(approvers[0], 'ApproveContent', { pageId }));
        const cmd = await held(h, clock, erin, 'PublishPageVersion', { pageId });
        const answers = await Promise.all(approvers.map((a) => post(a, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash })));
        const executed = answers.filter((r) => r.status === 200 && r.body.result.status === 'executed');
        const refused = answers.filter((r) => r.body.code === 'INVALID_STATE');
        assert.equal(executed.length, 1, JSON.stringify(answers.map((r) => r.body)));
        assert.equal(refused.length, approvers.length - 1);
        const records = await leavesFor(h, 'content', cmd.envelope.requestId);
        assert.deepEqual(records.map((r) => r.outcome), ['PENDING', 'OK']);
        const page = (await h.get(`/v1/entities/${h.tenant}/page/${pageId}`)).body.doc;
        assert.equal(page.versions, 1, 'published once');
        assert.equal((await approvalDoc(h, cmd.id)).approvals.length, 1);
        assert.equal((await finalOutcome(h, cmd)).body.status, 'OK');
      }
    });
  });
}
