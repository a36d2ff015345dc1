import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';

describeEachBackend('the built-in packs', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  const run = (action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => h.post(h.sign(action, payload, extra));
  const entity = (type: string, id: string) => h.get(`/v1/entities/${h.tenant}/${type}/${encodeURIComponent(id)}`);

  async function ok(action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const res = await run(action, payload, extra);
    assert.equal(res.status, 200, `${action}: ${res.raw}`);
    assert.equal(res.body.status, 'OK');
    return res.body;
  }

  async function refused(code: string, status: number, action: string, payload: Record<string, unknown>) {
    const res = await run(action, payload);
    assert.equal(res.status, status, `${action}: ${res.raw}`);
    assert.equal(res.body.code, code);
    return res.body;
  }

  describe('content', () => {
    it('SaveDraftPage creates a page in status draft with draft revision 1', async () => {
      const body = await ok('SaveDraftPage', { pageId: 'home', title: 'Home', locale: 'en', blocks: [{ type: 'hero' }] });
      assert.deepEqual(body.result, { pageId: 'home', draftRev: 1 });
      const page = await entity('page', 'home');
      assert.equal(page.status, 200);
      assert.equal(page.body.version, 1);
      assert.equal(page.body.doc.status, 'draft');
      assert.equal(page.body.doc.title, 'Home');
      assert.deepEqual(page.body.doc.draft, { title: 'Home', locale: 'en', blocks: [{ type: 'hero' }], rev: 1 });
      assert.equal(page.body.doc.live, null);
      assert.equal(page.body.doc.versions, 0);
      assert.equal(page.body.doc.locked, null);
      assert.equal(page.body.doc.schedule, null);
    });

    it('SaveDraftPage increments the draft revision and keeps the title when it is omitted', async () => {
      const body = await ok('SaveDraftPage', { pageId: 'home', blocks: [{ type: 'hero' }, { type: 'text' }] });
      assert.equal(body.result.draftRev, 2);
      const page = await entity('page', 'home');
      assert.equal(page.body.version, 2);
      assert.equal(page.body.doc.draft.rev, 2);
      assert.equal(page.body.doc.draft.title, 'Home');
      assert.equal(page.body.doc.draft.blocks.length, 2);
    });

    it('SubmitForReview moves a draft into review', async () => {
      const body = await ok('SubmitForReview', { pageId: 'home' });
      assert.deepEqual(body.result, { pageId: 'home', status: 'in_review', rev: 2 });
      assert.equal((await entity('page', 'home')).body.doc.status, 'in_review');
    });

    it('SubmitForReview refuses a page already in review with INVALID_STATE and the allowed states', async () => {
      const body = await refused('INVALID_STATE', 409, 'SubmitForReview', { pageId: 'home' });
      assert.deepEqual(body.details, { field: 'status', current: 'in_review', allowed: ['draft', 'changes_requested'], next: ['RequestChanges', 'ApproveContent', 'LockContent'] });
    });

    it('SubmitForReview of a page that does not exist is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'SubmitForReview', { pageId: 'ghost' });
    });

    it('PublishPageVersion of a page in review (not approved) is INVALID_STATE', async () => {
      const body = await refused('INVALID_STATE', 409, 'PublishPageVersion', { pageId: 'home' });
      assert.equal(body.details.current, 'in_review');
      assert.deepEqual(body.details.allowed, ['approved']);
    });

    it('PublishPageVersion snapshots the approved draft as page-version <pageId>@1 and points live at it', async () => {
      await ok('ApproveContent', { pageId: 'home' });
      const body = await ok('PublishPageVersion', { pageId: 'home' });
      assert.deepEqual(body.result, { pageId: 'home', versionId: 'home@1', version: 1 });
      const page = await entity('page', 'home');
      assert.equal(page.body.doc.status, 'published');
      assert.deepEqual(page.body.doc.live, { version: 1, versionId: 'home@1' });
      assert.equal(page.body.doc.draft, null);
      assert.equal(page.body.doc.versions, 1);
      const version = await entity('page-version', 'home@1');
      assert.equal(version.status, 200);
      assert.equal(version.body.doc.pageId, 'home');
      assert.equal(version.body.doc.version, 1);
      assert.equal(version.body.doc.publishedBy, 'admin');
      assert.equal(version.body.doc.approvedBy, 'admin');
      assert.deepEqual(version.body.doc.blocks, [{ type: 'hero' }, { type: 'text' }]);
      assert.equal(version.body.index, page.body.index, 'both entities were written by the same ledger record');
    });

    it('PublishPageVersion without an unpublished draft is INVALID_STATE', async () => {
      await refused('INVALID_STATE', 409, 'PublishPageVersion', { pageId: 'home' });
      assert.equal((await entity('page-version', 'home@2')).status, 404);
    });

    it('PublishPageVersion of a page that does not exist is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'PublishPageVersion', { pageId: 'nowhere' });
    });

    /** Save, submit, approve and publish a draft. */
    async function publishDraft(pageId: string, draft: Record<string, unknown>) {
      await ok('SaveDraftPage', { pageId, ...draft });
      await ok('SubmitForReview', { pageId });
      await ok('ApproveContent', { pageId });
      return ok('PublishPageVersion', { pageId });
    }

    it('PublishPageVersion numbers the next version 2 and keeps version 1 intact', async () => {
      const body = await publishDraft('home', { title: 'Home v2', blocks: [{ type: 'text' }] });
      assert.equal(body.result.versionId, 'home@2');
      assert.equal((await entity('page', 'home')).body.doc.title, 'Home v2');
      assert.deepEqual((await entity('page-version', 'home@1')).body.doc.blocks, [{ type: 'hero' }, { type: 'text' }]);
      assert.equal((await entity('page-version', 'home@2')).body.doc.title, 'Home v2');
    });

    it('PublishPageVersion re-publishes an existing version by versionId without creating a new one', async () => {
      const body = await ok('PublishPageVersion', { pageId: 'home', versionId: 'home@1' });
      assert.deepEqual(body.result, { pageId: 'home', versionId: 'home@1', version: 1 });
      const page = await entity('page', 'home');
      assert.deepEqual(page.body.doc.live, { version: 1, versionId: 'home@1' });
      assert.equal(page.body.doc.versions, 2);
      assert.equal((await entity('page-version', 'home@3')).status, 404);
    });

    it('PublishPageVersion of an unknown versionId is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'PublishPageVersion', { pageId: 'home', versionId: 'home@9' });
    });

    it('PublishPageVersion refuses a versionId that belongs to another page', async () => {
      await publishDraft('about', { blocks: [] });
      await refused('NOT_FOUND', 404, 'PublishPageVersion', { pageId: 'home', versionId: 'about@1' });
      assert.equal((await entity('page', 'home')).body.doc.live.versionId, 'home@1');
    });

    it('RollbackPage makes an earlier version live', async () => {
      await ok('PublishPageVersion', { pageId: 'home', versionId: 'home@2' });
      const body = await ok('RollbackPage', { pageId: 'home', toVersion: 1 });
      assert.deepEqual(body.result, { pageId: 'home', versionId: 'home@1', version: 1 });
      const page = await entity('page', 'home');
      assert.deepEqual(page.body.doc.live, { version: 1, versionId: 'home@1' });
      assert.equal(page.body.doc.status, 'published');
    });

    it('RollbackPage to the version that is already live is INVALID_STATE', async () => {
      await refused('INVALID_STATE', 409, 'RollbackPage', { pageId: 'home', toVersion: 1 });
    });

    it('UpsertRoute points a path at a page and replaces it on a second upsert', async () => {
      const first = await ok('UpsertRoute', { path: '/about', pageId: 'about' });
      assert.deepEqual(first.result, { type: 'route', id: '/about', created: true });
      const second = await ok('UpsertRoute', { path: '/about', pageId: 'home' });
      assert.equal(second.result.created, false);
      const route = await entity('route', '/about');
      assert.equal(route.status, 200);
      assert.equal(route.body.version, 2);
      assert.deepEqual(route.body.doc, { path: '/about', pageId: 'home' });
    });

    it('DeleteRoute leaves a tombstone: a new version, deleted, without a document', async () => {
      const body = await ok('DeleteRoute', { path: '/about' });
      assert.deepEqual(body.result, { type: 'route', id: '/about', deleted: true });
      const route = await entity('route', '/about');
      assert.equal(route.body.version, 3);
      assert.equal(route.body.deleted, true);
      assert.equal(route.body.doc, null);
    });

    it('DeleteRoute of a route that was already deleted is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'DeleteRoute', { path: '/about' });
    });

    it('DeleteRoute of a route that never existed is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'DeleteRoute', { path: '/never' });
    });

    it('UpsertRoute revives a deleted route as a new version', async () => {
      const body = await ok('UpsertRoute', { path: '/about', pageId: 'about' });
      assert.equal(body.result.created, true);
      const route = await entity('route', '/about');
      assert.equal(route.body.version, 4);
      assert.equal(route.body.deleted, false);
    });
  });

  describe('commerce', () => {
    it('UpsertProduct creates a product and replaces the whole document on the next upsert', async () => {
      const first = await ok('UpsertProduct', { sku: 'mug', name: 'Mug', description: 'White', active: true, price: { amount: 900, currency: 'EUR' } });
      assert.deepEqual(first.result, { type: 'product', id: 'mug', created: true });
      const second = await ok('UpsertProduct', { sku: 'mug', name: 'Mug', price: { amount: 950, currency: 'EUR' } });
      assert.equal(second.result.created, false);
      const p = await entity('product', 'mug');
      assert.equal(p.body.version, 2);
      assert.deepEqual(p.body.doc, { sku: 'mug', name: 'Mug', price: { amount: 950, currency: 'EUR' } }, 'upsert replaces, it does not merge');
    });

    it('UpsertProduct accepts a price of zero', async () => {
      await ok('UpsertProduct', { sku: 'free', name: 'Sample', price: { amount: 0, currency: 'USD' } });
    });
  });

  describe('access', () => {
    it('AssignRole gives an actor a role and keeps the roles sorted', async () => {
      await ok('AssignRole', { actor: 'zoe', role: 'publisher' });
      const body = await ok('AssignRole', { actor: 'zoe', role: 'editor' });
      assert.deepEqual(body.result, { actor: 'zoe', roles: ['editor', 'publisher'] });
      assert.deepEqual((await entity('actor', 'zoe')).body.doc.roles, ['editor', 'publisher']);
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'zoe'), ['editor', 'publisher']);
    });

    it('AssignRole of a role already held is INVALID_STATE', async () => {
      await refused('INVALID_STATE', 409, 'AssignRole', { actor: 'zoe', role: 'editor' });
    });

    it('RevokeRole takes a role away', async () => {
      const body = await ok('RevokeRole', { actor: 'zoe', role: 'publisher' });
      assert.deepEqual(body.result.roles, ['editor']);
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'zoe'), ['editor']);
    });

    it('RevokeRole of a role not held is INVALID_STATE, also for an actor never seen', async () => {
      await refused('INVALID_STATE', 409, 'RevokeRole', { actor: 'zoe', role: 'publisher' });
      await refused('INVALID_STATE', 409, 'RevokeRole', { actor: 'nobody-at-all', role: 'editor' });
    });

    it('UpsertProfile creates a profile from the patch', async () => {
      await ok('UpsertProfile', { actor: 'zoe', displayName: 'Zoe', email: 'zoe@example.com' });
      assert.deepEqual((await entity('profile', 'zoe')).body.doc, { actor: 'zoe', displayName: 'Zoe', email: 'zoe@example.com' });
    });

    it('UpsertProfile merges: fields it does not name are kept', async () => {
      await ok('UpsertProfile', { actor: 'zoe', locale: 'de-CH' });
      const p = await entity('profile', 'zoe');
      assert.deepEqual(p.body.doc, { actor: 'zoe', displayName: 'Zoe', email: 'zoe@example.com', locale: 'de-CH' });
      assert.equal(p.body.version, 2);
    });

    it('UpsertProfile removes a field given as null (RFC 7396)', async () => {
      await ok('UpsertProfile', { actor: 'zoe', email: null });
      assert.deepEqual((await entity('profile', 'zoe')).body.doc, { actor: 'zoe', displayName: 'Zoe', locale: 'de-CH' });
    });

    it('UpsertProfile refuses an email that is not an email address', async () => {
      await refused('INVALID_PAYLOAD', 400, 'UpsertProfile', { actor: 'zoe', email: 'not-an-email' });
    });

    it('GrantEntitlement grants a subject an entitlement under the id <subject>:<entitlement>', async () => {
      const body = await ok('GrantEntitlement', { subject: 'zoe', entitlement: 'gold', expiresAt: '2030-01-01T00:00:00Z' });
      assert.deepEqual(body.result, { type: 'entitlement', id: 'zoe:gold', created: true });
      const e = await entity('entitlement', 'zoe:gold');
      assert.deepEqual(e.body.doc, { subject: 'zoe', entitlement: 'gold', expiresAt: '2030-01-01T00:00:00Z' });
    });

    it('RevokeEntitlement deletes it as a tombstone', async () => {
      await ok('RevokeEntitlement', { subject: 'zoe', entitlement: 'gold' });
      const e = await entity('entitlement', 'zoe:gold');
      assert.equal(e.body.deleted, true);
      assert.equal(e.body.doc, null);
    });

    it('RevokeEntitlement of an entitlement not held is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'RevokeEntitlement', { subject: 'zoe', entitlement: 'gold' });
      await refused('NOT_FOUND', 404, 'RevokeEntitlement', { subject: 'zoe', entitlement: 'silver' });
    });
  });

  describe('writ', () => {
    it('writ.RegisterKey registers an Ed25519 key that can then sign commands', async () => {
      const kim = newSigner('kim#1');
      const body = await ok('writ.RegisterKey', { actor: 'kim', keyId: 'kim#1', alg: 'ed25519', publicKey: kim.publicPem });
      assert.deepEqual(body.result, { keyId: 'kim#1', actor: 'kim', alg: 'ed25519' });
      const key = await entity('key', 'kim#1');
      assert.equal(key.body.doc.revokedAt, null);
      assert.equal(key.body.doc.publicKey, kim.publicPem);
      await ok('AssignRole', { actor: 'kim', role: 'editor' });
      const signed = await h.post(h.sign('UpsertProduct', { sku: 'kim-1', name: 'K', price: { amount: 1, currency: 'EUR' } }, {}, kim));
      assert.equal(signed.status, 200, signed.raw);
    });

    it('writ.RegisterKey registers an ES256 (P-256) key that can then sign commands', async () => {
      const es = newSigner('kim#es', 'es256');
      await ok('writ.RegisterKey', { actor: 'kim', keyId: 'kim#es', alg: 'es256', publicKey: es.publicPem });
      const signed = await h.post(h.sign('UpsertProduct', { sku: 'kim-2', name: 'K', price: { amount: 1, currency: 'EUR' } }, {}, es));
      assert.equal(signed.status, 200, signed.raw);
    });

    it('writ.RegisterKey refuses to reuse a key id with INVALID_STATE, even for the same key', async () => {
      const other = newSigner('kim#1');
      await refused('INVALID_STATE', 409, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#1', alg: 'ed25519', publicKey: other.publicPem });
      assert.notEqual((await entity('key', 'kim#1')).body.doc.publicKey, other.publicPem);
    });

    it('writ.RegisterKey refuses a PEM whose key type does not match alg with INVALID_PAYLOAD', async () => {
      const ec = newSigner('kim#2', 'es256');
      const body = await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#2', alg: 'ed25519', publicKey: ec.publicPem });
      assert.match(body.message, /ec.* but alg is ed25519|es256 key but alg is ed25519/);
      const ed = newSigner('kim#3');
      await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#3', alg: 'es256', publicKey: ed.publicPem });
      assert.equal((await entity('key', 'kim#2')).status, 404);
    });

    it('writ.RegisterKey refuses text that is not a PEM public key with INVALID_PAYLOAD', async () => {
      await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#4', alg: 'ed25519', publicKey: 'not a key' });
    });

    it('writ.RegisterKey refuses a private key given as publicKey, so it is never stored or served', async () => {
      const k = newSigner('kim#6');
      const privatePem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const body = await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#6', alg: 'ed25519', publicKey: privatePem });
      assert.doesNotMatch(JSON.stringify(body), /PRIVATE KEY/);
      assert.equal((await entity('key', 'kim#6')).status, 404);
      assert.equal(h.writ.directory.key(h.tenant, 'kim#6'), undefined);
    });

    it('writ.RegisterKey refuses a public key followed by other PEM blocks', async () => {
      const k = newSigner('kim#7');
      const privatePem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#7', alg: 'ed25519', publicKey: k.publicPem + privatePem });
    });

    it('writ.RegisterKey refuses a validity window that ends before it starts', async () => {
      const k = newSigner('kim#5');
      await refused('INVALID_PAYLOAD', 400, 'writ.RegisterKey', { actor: 'kim', keyId: 'kim#5', alg: 'ed25519', publicKey: k.publicPem, notBefore: '2030-01-02T00:00:00Z', notAfter: '2030-01-01T00:00:00Z' });
    });

    it('writ.RevokeKey revokes a key, and commands signed with it are refused KEY_REVOKED', async () => {
      const kay = await h.actor('kay', ['editor']);
      const body = await ok('writ.RevokeKey', { keyId: 'kay#1', reason: 'laptop lost' });
      assert.equal(body.result.keyId, 'kay#1');
      const key = await entity('key', 'kay#1');
      assert.equal(key.body.doc.revokedAt, body.result.revokedAt);
      assert.equal(key.body.doc.revokeReason, 'laptop lost');
      const res = await h.post(h.sign('UpsertProduct', { sku: 'kay-1', name: 'K', price: { amount: 1, currency: 'EUR' } }, {}, kay));
      assert.equal(res.status, 401, res.raw);
      assert.equal(res.body.code, 'KEY_REVOKED');
    });

    it('writ.RevokeKey of a key already revoked is INVALID_STATE', async () => {
      await refused('INVALID_STATE', 409, 'writ.RevokeKey', { keyId: 'kay#1' });
    });

    it('writ.RevokeKey of a key never registered is NOT_FOUND', async () => {
      await refused('NOT_FOUND', 404, 'writ.RevokeKey', { keyId: 'nobody#1' });
    });

    it('writ.SetFlag makes an actor read-only until the flag is cleared', async () => {
      const rex = await h.actor('rex', ['editor']);
      const product = (sku: string) => h.sign('UpsertProduct', { sku, name: 'R', price: { amount: 1, currency: 'EUR' } }, {}, rex);
      await ok('writ.SetFlag', { subject: 'actor:rex', flag: 'readonly', reason: 'audit' });
      assert.deepEqual((await entity('flag', 'actor:rex')).body.doc, { subject: 'actor:rex', flag: 'readonly', reason: 'audit' });
      const refusedRes = await h.post(product('rex-1'));
      assert.equal(refusedRes.status, 403, refusedRes.raw);
      assert.equal(refusedRes.body.code, 'READONLY');
      await ok('writ.SetFlag', { subject: 'actor:rex', flag: 'none' });
      assert.equal((await h.post(product('rex-2'))).status, 200);
    });

    it('writ.SetFlag blocks a whole tenant, and only writ.SetFlag can lift it', async () => {
      await ok('writ.SetFlag', { subject: 'tenant', flag: 'blocked' });
      const blocked = await run('UpsertProduct', { sku: 'blk', name: 'B', price: { amount: 1, currency: 'EUR' } });
      assert.equal(blocked.status, 403, blocked.raw);
      assert.equal(blocked.body.code, 'BLOCKED');
      await ok('writ.SetFlag', { subject: 'tenant', flag: 'none' });
      await ok('UpsertProduct', { sku: 'blk', name: 'B', price: { amount: 1, currency: 'EUR' } });
    });

    it('writ.SetFlag refuses an unknown flag or subject with INVALID_PAYLOAD', async () => {
      await refused('INVALID_PAYLOAD', 400, 'writ.SetFlag', { subject: 'tenant', flag: 'frozen' });
      await refused('INVALID_PAYLOAD', 400, 'writ.SetFlag', { subject: 'everyone', flag: 'blocked' });
    });
  });
});
