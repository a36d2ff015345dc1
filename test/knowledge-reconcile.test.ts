import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { entry, git, refs } from './support/knowledge.js';
import { assertError, assertOk, leaves } from './support/stage-helpers.js';

/**
 * Commits made outside writ (plain git on a perspective's ref): start-up leaves a perspective that
 * they extend in place, and an admin's Reconcile records them, marked reconciled; a ref moved
 * anywhere else is put back to what the ledger says.
 */
describe('knowledge commits made outside writ', () => {
  let h: Harness;
  let ada: Signer;
  before(async () => {
    h = await startHarness();
    ada = await h.actor('ada', ['instance']);
    assertOk(await h.post(h.sign('KipCommit', { perspective: 'ada', message: 'first', writes: [{ path: 'a.md', content: entry('A') }] }, {}, ada)));
  });
  after(() => h.close());

  /** A commit on top of `parent` made with git plumbing, adding `path`. */
  function outsideCommit(parent: string, path: string, content: string): string {
    const dir = `--git-dir=${h.writ.config.knowledge.git}/${h.tenant}.git`;
    const b = execFileSync('git', [dir, 'hash-object', '-w', '--stdin'], { input: content, encoding: 'utf8' }).trim();
    const tree = execFileSync('git', [dir, 'ls-tree', `${parent}^{tree}`], { encoding: 'utf8' }) + `100644 blob ${b}\t${path}\n`;
    const t = execFileSync('git', [dir, 'mktree'], { input: tree, encoding: 'utf8' }).trim();
    return execFileSync('git', [dir, 'commit-tree', t, '-p', parent, '-m', `outside ${path}`], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'ada', GIT_AUTHOR_EMAIL: 'ada@x', GIT_COMMITTER_NAME: 'ada', GIT_COMMITTER_EMAIL: 'ada@x' } }).trim();
  }

  it('keeps an extended perspective at start-up and records the outside commits on Reconcile, marked reconciled', async () => {
    const recorded = (await refs(h))['refs/perspectives/ada'];
    const outside = outsideCommit(recorded, 'b.md', entry('B'));
    git(h, 'update-ref', 'refs/perspectives/ada', outside);
    await h.restart();
    assert.equal((await refs(h))['refs/perspectives/ada'], outside, 'start-up leaves commits on top of the recorded head');
    const res = assertOk(await h.post(h.sign('Reconcile', { perspective: 'ada', commit: outside })));
    assert.deepEqual(res.result.reconciled, [outside]);
    const doc = (await h.get(`/v1/entities/${h.tenant}/kip-perspective/ada`)).body.doc;
    assert.equal(doc.head, outside);
    assert.equal(doc.reconciled, true);
    assert.equal((await leaves(h, 'knowledge')).at(-1)!.action, 'Reconcile');
  });

  it('refuses to reconcile a commit that does not extend the recorded head, and an instance may not reconcile', async () => {
    const head = (await refs(h))['refs/perspectives/ada'];
    const parent = git(h, 'rev-parse', `${head}^`)!;
    const side = outsideCommit(parent, 'c.md', entry('C'));
    assertError(await h.post(h.sign('Reconcile', { perspective: 'ada', commit: side })), 'INVALID_STATE');
    assertError(await h.post(h.sign('Reconcile', { perspective: 'ada', commit: side }, {}, ada)), 'FORBIDDEN');
  });

  it('puts a ref moved anywhere else back to the ledger\'s head at start-up', async () => {
    const head = (await refs(h))['refs/perspectives/ada'];
    git(h, 'update-ref', 'refs/perspectives/ada', git(h, 'rev-parse', `${head}^`)!);
    git(h, 'update-ref', '-d', 'refs/heads/canon');
    await h.restart();
    assert.equal((await refs(h))['refs/perspectives/ada'], head);
  });
});
