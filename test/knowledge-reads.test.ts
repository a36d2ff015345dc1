import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { entry } from './support/knowledge.js';
import { assertOk } from './support/stage-helpers.js';
import { knowledgeOf } from '../src/packs/knowledge/pack.js';

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
    ada = await h.actor('ada', ['instance']);
    bob = await h.actor('bob', ['instance']);
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

  const k = (path: string) => `/v1/knowledge/${h.tenant}${path}`;

  it('reads an entry of one\'s own perspective (kip_get), at its head and at a commit of its history', async () => {
    const got = await h.getAs(k('/entry?ref=perspective/ada&path=drafts/idea.md'), ada);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.frontMatter.title, 'Idea');
    assert.match(got.body.content, /unfinished thought/);
    const at = await h.getAs(k(`/entry?ref=perspective/ada&path=drafts/idea.md&at=${got.body.commit}`), ada);
    assert.equal(at.body.blob, got.body.blob);
    const log = await h.getAs(k('/log?ref=perspective/ada&path=drafts/idea.md'), ada);
    assert.deepEqual(log.body.commits.map((c: any) => [c.commit, c.author, c.message]), [[got.body.commit, 'ada', 'draft']]);
  });

  it('refuses another actor\'s perspective to an instance, and shows it to a practitioner', async () => {
    assert.equal((await h.getAs(k('/entry?ref=perspective/ada&path=drafts/idea.md'), bob)).status, 403);
    assert.equal((await h.getAs(k('/log?ref=perspective/ada'), bob)).status, 403);
    assert.equal((await h.getAs(k('/entry?ref=perspective/ada&path=drafts/idea.md'), pia)).status, 200);
  });

  it('answers NOT_FOUND for a commit outside the ref\'s history, and INVALID_PAYLOAD for a path outside the tree', async () => {
    assert.equal((await h.getAs(k(`/entry?ref=perspective/ada&path=drafts/idea.md&at=${'0'.repeat(40)}`), ada)).body.code, 'NOT_FOUND');
    assert.equal((await h.getAs(k('/entry?ref=perspective/ada&path=../config.json'), ada)).body.code, 'INVALID_PAYLOAD');
    assert.equal((await h.getAs(k('/entry?ref=perspective/ada&path=.git/config'), ada)).body.code, 'INVALID_PAYLOAD');
  });

  it('searches only what the caller may read: one\'s own perspective, or every one for a practitioner', async () => {
    await knowledgeOf(h.writ).refs.settled();
    await knowledgeOf(h.writ).search.settled();
    const own = await h.getAs(k('/search?q=unfinished'), ada);
    assert.deepEqual(own.body.hits.map((x: any) => [x.ref, x.path]), [['perspective/ada', 'drafts/idea.md']]);
    assert.match(own.body.hits[0].snippet, /\[unfinished\]/);
    assert.deepEqual((await h.getAs(k('/search?q=unfinished'), bob)).body.hits, []);
    assert.equal((await h.getAs(k('/search?q=unfinished&ref=perspective/ada'), bob)).status, 403);
    assert.equal((await h.getAs(k('/search?q=unfinished'), pia)).body.hits.length, 1);
  });

  it('lists an inbox to its recipient and to practitioners only', async () => {
    const mine = await h.getAs(k('/inbox'), pia);
    assert.deepEqual(mine.body.messages.map((m: any) => m.subject), ['secret plan']);
    assert.deepEqual((await h.getAs(k('/inbox?to=practitioner'), pia)).body.messages.map((m: any) => m.subject), ['for the practitioners']);
    assert.equal((await h.getAs(k('/inbox?to=pia'), bob)).status, 403);
    assert.equal((await h.getAs(k('/inbox?to=practitioner'), bob)).status, 403);
    assert.deepEqual((await h.getAs(k('/inbox'), bob)).body.messages, []);
  });

  it('does not let another actor read a perspective through the entity routes', async () => {
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, bob)).status, 403);
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, ada)).status, 200);
    assert.equal((await h.getAs(`/v1/entities/${h.tenant}/kip-perspective/ada`, pia)).status, 200);
  });
});
