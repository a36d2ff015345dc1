import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import type { Signer } from '../src/sdk/sign.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { startHarness, type Harness } from './support/harness.js';
import { entry } from './support/knowledge.js';
import { assertError, assertOk, leaves } from './support/stage-helpers.js';
import { knowledgeOf } from '../src/packs/knowledge/pack.js';

/**
 * New git objects are fsynced before the ledger transaction that names them (docs/knowledge.md,
 * "Crash safety"): the store commits a batch only once the repositories' flush has finished, and a
 * flush that fails (an fsync error) fails the batch instead of recording ids of objects that may not
 * survive a power loss.
 */
describe('knowledge objects are durable before the ledger names them', () => {
  let h: Harness;
  let ada: Signer;
  let n = 0;
  before(async () => {
    h = await startHarness();
    ada = await h.actor('ada', ['instance']);
  });
  after(() => h.close());

  const commit = () => h.post(h.sign('KipCommit', { perspective: 'ada', message: `change ${++n}`, writes: [{ path: `notes/n${n}.md`, content: entry(`Note ${n}`) }] }, {}, ada));
  const perspective = () => h.writ.store.getEntity(h.tenant, 'kip-perspective', 'ada');

  it('records a KipCommit only after the flush of its objects has finished', async () => {
    const repos = knowledgeOf(h.writ).repos;
    const flush = repos.flush.bind(repos);
    let release!: () => void;
    const holding = new Promise<void>((r) => (release = r));
    let calls = 0;
    repos.flush = async () => {
      calls++;
      await holding;
      return flush();
    };
    try {
      const recorded = (await leaves(h, 'knowledge')).length;
      const answer = commit();
      for (let i = 0; calls === 0 && i < 400; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(calls, 1, 'the batch waits for the flush');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await leaves(h, 'knowledge')).length, recorded, 'nothing is recorded while the objects are being flushed');
      assert.equal(await perspective(), null);
      release();
      const ok = assertOk(await answer);
      assert.equal(((await perspective())?.doc as { head: string }).head, ok.result.commit);
    } finally {
      repos.flush = flush;
    }
  });

  it('answers UNAVAILABLE and records nothing when the flush fails, and recovers for the next command', async () => {
    const repos = knowledgeOf(h.writ).repos;
    const flush = repos.flush.bind(repos);
    const before = (await leaves(h, 'knowledge')).length;
    const head = ((await perspective())?.doc as { head: string }).head;
    repos.flush = async () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    };
    try {
      assertError(await commit(), 'UNAVAILABLE');
    } finally {
      repos.flush = flush;
    }
    assert.equal((await leaves(h, 'knowledge')).length, before, 'no record names the objects');
    assert.equal(((await perspective())?.doc as { head: string }).head, head);
    assertOk(await commit());
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
  });
});
