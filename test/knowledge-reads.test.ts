import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { entry } from './support/knowledge.js';
import { assertOk } from './support/stage-helpers.js';

/**
 * Who reads what of the knowledge pack (docs/knowledge.md, "Who reads what"): an actor's inbox is
 * its own and the practitioner's, a perspective its actor's and the practitioner's; the generic
 * entity routes may not show more than the knowledge reads.
 */
describe('knowledge reads', () => {
  let h: Harness;
  let ada: Signer;
  let bob: Signer;
  let pia: Signer;
  before(async () => {
    h = await startHarness();
    ada = await h.actor('ada');
    bob = await h.actor('bob');
    pia = await h.actor('pia', ['practitioner']);
    const post = (s: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, {}, s));
    assertOk(await post(ada, 'SendMessage', { messageId: 'm1', to: 'pia', subject: 'secret plan', body: 'for pia only' }));
    assertOk(await post(ada, 'SendMessage', { messageId: 'm2', to: 'practitioner', subject: 'for the practitioners', body: 'review please' }));
    assertOk(await post(ada, 'KipCommit', { perspective: 'ada', message: 'draft', writes: [{ path: 'drafts/idea.md', content: entry('Idea', 'unfinished thought') }] }));
  });
  after(() => h.close());

  it('does not let another actor read a message through the entity routes', async () => {
    const res = await h.getAs(`/v1/entities/${h.tenant}/kip-message/pia~m1`, bob);
    assert.equal(res.status, 403, JSON.stringify(res.body));
    const list = await h.getAs(`/v1/entities/${h.tenant}/kip-message`, bob);
    assert.equal(list.status, 403, JSON.stringify(list.body));
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-message/pia~m1`, pia)).status, 200, 'the recipient reads it');
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-message/practitioner~m2`, pia)).status, 200, 'a practitioner reads the practitioners\' mail');
  });

  it('does not let another actor read a perspective through the entity routes', async () => {
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, bob)).status, 403);
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, ada)).status, 200);
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, pia)).status, 200);
  });
});
