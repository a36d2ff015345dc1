import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { loadConfig } from '../src/config/config.js';
import { Policy } from '../src/policy/cedar.js';
import { factsOf } from '../src/policy/schema.js';
import type { Signer } from '../src/sdk/sign.js';
import { packageRoot } from '../src/util/package-root.js';
import { builtinPacksDir, openWrit, policySources } from '../src/writ.js';
import { startHarness, type Harness } from './support/harness.js';
import { lastRecord } from './support/reference.js';

let seq = 0;
/** A payload with every fact of the action's schema filled in (strings "x", integers 1, booleans true). */
const samplePayload = (schema: Record<string, unknown>) =>
  Object.fromEntries([...factsOf(schema)].map(([name, f]) => [name, f.type === 'String' ? 'x' : f.type === 'Long' ? 1 : true]));
const product = () => ({ sku: `p-${++seq}`, name: 'Tea', price: { amount: 100, currency: 'EUR' } });
const draft = (pageId: string) => ({ pageId, blocks: [{ type: 'text' }] });

describeEachBackend('the authorize stage with the shipped Cedar policies', (backend) => {
  let h: Harness;
  let editor: Signer;
  let publisher: Signer;
  let nobody: Signer;
  before(async () => {
    h = await startHarness({}, { backend });
    editor = await h.actor('erin', ['editor']);
    publisher = await h.actor('paul', ['publisher']);
    nobody = await h.actor('nora', []);
  });
  after(() => h.close());

  const as = (signer: Signer, action: string, payload: Record<string, unknown>) => h.post(h.sign(action, payload, {}, signer));
  /** A page saved, submitted and approved (the content workflow), ready to publish. */
  async function approvedPage(pageId: string, by: Signer = publisher) {
    for (const [action, payload] of [['SaveDraftPage', draft(pageId)], ['SubmitForReview', { pageId }], ['ApproveContent', { pageId }]] as const) {
      const res = await as(by, action, payload);
      assert.equal(res.status, 200, `${action}: ${res.raw}`);
    }
  }

  async function forbidden(signer: Signer, action: string, payload: Record<string, unknown>) {
    const res = await as(signer, action, payload);
    assert.equal(res.status, 403, `${action}: ${res.raw}`);
    assert.equal(res.body.code, 'FORBIDDEN');
    return res;
  }

  describe('an editor', () => {
    it('may save a draft page', async () => {
      const res = await as(editor, 'SaveDraftPage', draft('ed-home'));
      assert.equal(res.status, 200, res.raw);
    });

    it('may submit a page for review', async () => {
      await as(editor, 'SaveDraftPage', draft('ed-review'));
      const res = await as(editor, 'SubmitForReview', { pageId: 'ed-review' });
      assert.equal(res.status, 200, res.raw);
    });

    it('may upsert a product', async () => {
      const res = await as(editor, 'UpsertProduct', product());
      assert.equal(res.status, 200, res.raw);
    });

    it('may not publish a page version outright: an approved page is held for approval (202), nothing is published', async () => {
      await approvedPage('ed-pub');
      const res = await as(editor, 'PublishPageVersion', { pageId: 'ed-pub' });
      assert.equal(res.status, 202, res.raw);
      assert.equal(res.body.status, 'PENDING_APPROVAL');
      const page = await h.get(`/v1/entities/${h.tenant}/page/ed-pub`);
      assert.equal(page.body.doc.status, 'approved', 'the page is not published');
      assert.equal((await h.get(`/v1/entities/${h.tenant}/page-version/ed-pub@1`)).status, 404);
    });

    it('is authorized before the effect runs: a publish of a missing page by an actor without roles is FORBIDDEN, not NOT_FOUND', async () => {
      await forbidden(nobody, 'PublishPageVersion', { pageId: 'no-such-page' });
    });

    it('may not roll back a page or change routes', async () => {
      await forbidden(editor, 'RollbackPage', { pageId: 'ed-home', toVersion: 1 });
      await forbidden(editor, 'UpsertRoute', { path: '/ed', pageId: 'ed-home' });
      await forbidden(editor, 'DeleteRoute', { path: '/ed' });
    });

    it('may not assign itself or anyone a role', async () => {
      await forbidden(editor, 'AssignRole', { actor: 'erin', role: 'admin' });
      await forbidden(editor, 'RevokeRole', { actor: 'paul', role: 'publisher' });
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'erin'), ['editor']);
    });

    it('may not run any writ.* system action', async () => {
      await forbidden(editor, 'writ.SetFlag', { subject: 'tenant', flag: 'readonly' });
      await forbidden(editor, 'writ.RevokeKey', { keyId: 'admin#1' });
      await forbidden(editor, 'writ.RegisterKey', { actor: 'erin', keyId: 'erin#2', alg: 'ed25519', publicKey: 'x' });
      assert.equal(h.writ.directory.flagOf(h.tenant, 'erin'), undefined);
      assert.equal(h.writ.directory.key(h.tenant, 'admin#1')?.revokedAt, null);
    });

    it('leaves a REJECTED ledger record with code FORBIDDEN and the policies that decided', async () => {
      const res = await forbidden(editor, 'GrantEntitlement', { subject: 'erin', entitlement: 'gold' });
      assert.match(res.body.message, /erin may not run GrantEntitlement with roles editor/);
      assert.ok(Array.isArray(res.body.details?.policies));
      const last = await lastRecord(h.writ.store, h.tenant, 'access');
      assert.equal(last?.record.action, 'GrantEntitlement');
      assert.equal(last?.record.outcome, 'REJECTED');
      assert.equal(last?.record.code, 'FORBIDDEN');
      assert.equal(last?.record.actor, 'erin');
    });
  });

  describe('a publisher', () => {
    it('may publish, re-publish and roll back a page', async () => {
      await approvedPage('pub-home');
      assert.equal((await as(publisher, 'PublishPageVersion', { pageId: 'pub-home' })).status, 200);
      await approvedPage('pub-home');
      assert.equal((await as(publisher, 'PublishPageVersion', { pageId: 'pub-home' })).status, 200);
      const rb = await as(publisher, 'RollbackPage', { pageId: 'pub-home', toVersion: 1 });
      assert.equal(rb.status, 200, rb.raw);
    });

    it('may publish a draft an editor saved', async () => {
      await as(editor, 'SaveDraftPage', draft('ed-to-pub'));
      await as(editor, 'SubmitForReview', { pageId: 'ed-to-pub' });
      assert.equal((await as(publisher, 'ApproveContent', { pageId: 'ed-to-pub' })).status, 200);
      const res = await as(publisher, 'PublishPageVersion', { pageId: 'ed-to-pub' });
      assert.equal(res.status, 200, res.raw);
    });

    it('may upsert and delete routes', async () => {
      assert.equal((await as(publisher, 'UpsertRoute', { path: '/pub', pageId: 'pub-home' })).status, 200);
      assert.equal((await as(publisher, 'DeleteRoute', { path: '/pub' })).status, 200);
    });

    it('may not upsert a product (commerce permits editors and admins only)', async () => {
      await forbidden(publisher, 'UpsertProduct', product());
    });

    it('may not assign roles or run writ.* actions', async () => {
      await forbidden(publisher, 'AssignRole', { actor: 'paul', role: 'admin' });
      await forbidden(publisher, 'writ.SetFlag', { subject: 'actor:erin', flag: 'blocked' });
    });
  });

  describe('an admin', () => {
    it('is permitted every action of every shipped pack by the shipped policies, outright, but break-glass and expiry', () => {
      const policy = Policy.load(policySources(h.writ.catalog, h.writ.config.policiesDir), { catalog: h.writ.catalog });
      const actions = h.writ.catalog.actions();
      const shipped = readdirSync(builtinPacksDir()).filter((p) => existsSync(join(builtinPacksDir(), p, 'actions.yaml')));
      assert.ok(shipped.length >= 5, shipped.join(', '));
      assert.deepEqual([...new Set(actions.map((a) => a.pack))].sort(), shipped.sort());
      // writ.BreakGlass is for role breakglass only; writ.ExpireApproval, writ.RecordPolicy and SpendOtpAttempt are writ's own (applied without policy).
      // The ops pack grants SubmitOp and RollbackOp to nobody (the home's mode policy, examples/ops/,
      // decides who and whether held), and StartOpAttempt and RecordOpResult to the effector only.
      const notForAdmins = ['writ.BreakGlass', 'writ.ExpireApproval', 'writ.RecordPolicy', 'SpendOtpAttempt', 'SubmitOp', 'RollbackOp', 'StartOpAttempt', 'RecordOpResult'];
      for (const a of actions) {
        const d = policy.authorize({ tenant: h.tenant, actor: 'admin', roles: ['admin'], action: a.name, pack: a.pack, target: `${a.entity}/x`, payload: samplePayload(a.schema) });
        // Landing knowledge into the canon is the human gate: held for a practitioner and the airlock, even for an admin.
        if (a.name === 'Land') {
          assert.deepEqual([d.allowed, d.requirement?.roles, d.requirement?.airlock], [true, ['practitioner'], { floorSeconds: 120, ceilingSeconds: 7200 }]);
          continue;
        }
        const expected = notForAdmins.includes(a.name) ? [false, null] : [true, null];
        assert.deepEqual([d.allowed, d.requirement], expected, `admin ${expected[0] ? 'may' : 'may not'} run ${a.name}`);
      }
    });

    it('runs system, access and commerce actions end to end', async () => {
      assert.equal((await h.post(h.sign('writ.SetFlag', { subject: 'actor:ghost', flag: 'none' }))).status, 200);
      assert.equal((await h.post(h.sign('UpsertProfile', { actor: 'erin', displayName: 'Erin' }))).status, 200);
      assert.equal((await h.post(h.sign('UpsertProduct', product()))).status, 200);
      for (const [action, payload] of [['SaveDraftPage', draft('admin-page')], ['SubmitForReview', { pageId: 'admin-page' }], ['ApproveContent', { pageId: 'admin-page' }], ['PublishPageVersion', { pageId: 'admin-page' }]] as const) {
        assert.equal((await h.post(h.sign(action, payload))).status, 200, action);
      }
    });
  });

  describe('an actor with no roles', () => {
    it('is forbidden every action, and the message says it holds no roles', async () => {
      const res = await forbidden(nobody, 'UpsertProduct', product());
      assert.match(res.body.message, /no roles/);
      await forbidden(nobody, 'SaveDraftPage', draft('nora-page'));
      await forbidden(nobody, 'UpsertProfile', { actor: 'nora', displayName: 'Nora' });
      await forbidden(nobody, 'writ.RevokeKey', { keyId: 'nora#1' });
    });

    it('is denied by the policy for every action in the catalog but answering or airlocking a held command (its handler checks roles)', () => {
      const policy = Policy.load(policySources(h.writ.catalog, h.writ.config.policiesDir), { catalog: h.writ.catalog });
      for (const a of h.writ.catalog.actions()) {
        const expected = ['writ.Approve', 'writ.Reject', 'writ.Stage', 'writ.Land', 'writ.Revert'].includes(a.name);
        assert.equal(policy.authorize({ tenant: h.tenant, actor: 'nora', roles: [], action: a.name, pack: a.pack, target: `${a.entity}/x`, payload: samplePayload(a.schema) }).allowed, expected, a.name);
      }
    });
  });

  describe('roles come from AssignRole and RevokeRole state', () => {
    it('grants a role for the very next command, and a revoke takes it away for the next one', async () => {
      const carl = await h.actor('carl', []);
      await forbidden(carl, 'UpsertProduct', product());
      assert.equal((await h.post(h.sign('AssignRole', { actor: 'carl', role: 'editor' }))).status, 200);
      const allowed = await as(carl, 'UpsertProduct', product());
      assert.equal(allowed.status, 200, allowed.raw);
      assert.equal((await h.post(h.sign('RevokeRole', { actor: 'carl', role: 'editor' }))).status, 200);
      await forbidden(carl, 'UpsertProduct', product());
    });

    it('keeps roles across a restart, because they are rebuilt from state', async () => {
      await h.actor('rita', ['publisher']);
      await h.restart();
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'rita'), ['publisher']);
      assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'carl'), []);
    });
  });
});

describeEachBackend('a command whose policy asks for approval', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
    await h.actor('bea', ['editor']);
  });
  after(() => h.close());

  it('is held: 202 PENDING_APPROVAL naming the approval and what it needs, and a PENDING record', async () => {
    const res = await h.post(h.sign('AssignRole', { actor: 'bea', role: 'admin' }));
    assert.equal(res.status, 202, res.raw);
    assert.equal(res.body.status, 'PENDING_APPROVAL');
    assert.deepEqual({ ...res.body.approval.requirement, policy: undefined }, { quorum: 2, roles: ['admin'], ttlSeconds: 7200, allowSelf: false, airlock: null, policy: undefined });
    // Named by its pack, never by where writ is installed: answers and the ledger are the same on every machine.
    assert.equal(res.body.approval.requirement.policy, 'packs/access/policies.cedar#1');
    const entity = await h.get(`/v1/entities/${h.tenant}/approval/${res.body.approval.id}`);
    assert.equal(entity.body.doc.requirement.policy, 'packs/access/policies.cedar#1');
    const stored = await h.get(`/v1/commands/${h.tenant}/${res.body.requestId}`);
    for (const text of [res.raw, JSON.stringify(entity.body), JSON.stringify(stored.body)]) assert.ok(!text.includes(packageRoot()) && !text.includes(h.home), text);
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'bea'), ['editor'], 'the role was not granted');
    const last = await lastRecord(h.writ.store, h.tenant, 'access');
    assert.deepEqual([last?.record.action, last?.record.outcome, last?.record.code], ['AssignRole', 'PENDING', null]);
  });

  it('does not hold back what an un-annotated permit allows: an admin grants other roles at once', async () => {
    const res = await h.post(h.sign('AssignRole', { actor: 'bea', role: 'publisher' }));
    assert.equal(res.status, 200, res.raw);
    assert.deepEqual(h.writ.directory.rolesOf(h.tenant, 'bea'), ['editor', 'publisher']);
  });
});

describeEachBackend('deployment policies in <home>/policies', (backend) => {
  let h: Harness;
  let merch: Signer;
  before(async () => {
    h = await startHarness({}, { backend });
    merch = await h.actor('mia', ['merch']);
  });
  after(() => h.close());

  it('forbids a role that no shipped policy mentions', async () => {
    const res = await h.post(h.sign('UpsertProduct', { sku: 'm-1', name: 'Mug', price: { amount: 900, currency: 'EUR' } }, {}, merch));
    assert.equal(res.status, 403, res.raw);
  });

  it('adds permits from a .cedar file after a restart', async () => {
    writeFileSync(
      join(h.home, 'policies', 'merch.cedar'),
      '// merchandisers maintain products\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n',
    );
    await h.restart();
    const res = await h.post(h.sign('UpsertProduct', { sku: 'm-1', name: 'Mug', price: { amount: 900, currency: 'EUR' } }, {}, merch));
    assert.equal(res.status, 200, res.raw);
    const other = await h.post(h.sign('SaveDraftPage', { pageId: 'mia', blocks: [] }, {}, merch));
    assert.equal(other.status, 403, 'the new permit covers UpsertProduct only');
  });

  it('can scope a permit to one resource, the target entity', async () => {
    writeFileSync(join(h.home, 'policies', 'merch-pages.cedar'), 'permit (principal in Writ::Role::"merch", action == Writ::Action::"SaveDraftPage", resource == Writ::Resource::"page/merch");\n');
    await h.restart();
    assert.equal((await h.post(h.sign('SaveDraftPage', { pageId: 'merch', blocks: [] }, {}, merch))).status, 200);
    assert.equal((await h.post(h.sign('SaveDraftPage', { pageId: 'other', blocks: [] }, {}, merch))).status, 403);
  });

  it('lets a forbid override the shipped permits, even an admin\'s', async () => {
    writeFileSync(join(h.home, 'policies', 'freeze.cedar'), 'forbid (principal, action == Writ::Action::"DeleteRoute", resource);\n');
    await h.restart();
    assert.equal((await h.post(h.sign('UpsertRoute', { path: '/frozen', pageId: 'merch' }))).status, 200);
    const res = await h.post(h.sign('DeleteRoute', { path: '/frozen' }));
    assert.equal(res.status, 403, res.raw);
    assert.equal(res.body.code, 'FORBIDDEN');
    rmSync(join(h.home, 'policies', 'freeze.cedar'));
    await h.restart();
    assert.equal((await h.post(h.sign('DeleteRoute', { path: '/frozen' }))).status, 200);
  });

  it('fails openWrit on a syntax error, naming the file and the line', async () => {
    const file = join(h.home, 'policies', 'broken.cedar');
    writeFileSync(file, '// line 1\npermit (principal, action, resource);\npermit (principal, action resource);\n');
    try {
      await assert.rejects(openWrit(loadConfig(h.home)), (err: Error) => {
        assert.ok(err.message.includes(`${file}:3: `), err.message);
        return true;
      });
    } finally {
      rmSync(file);
    }
  });

  it('fails openWrit on a policy the catalog\'s schema refuses, naming the file and the line', async () => {
    const file = join(h.home, 'policies', 'typo.cedar');
    writeFileSync(file, '// line 1\npermit (principal, action == Writ::Action::"UpsertProdcut", resource);\n');
    let opened: Awaited<ReturnType<typeof openWrit>> | undefined;
    let error: Error | undefined;
    try {
      opened = await openWrit(loadConfig(h.home));
    } catch (err) {
      error = err as Error;
    } finally {
      rmSync(file);
      await opened?.close();
    }
    assert.ok(error, 'openWrit started with a policy naming an action no pack defines');
    assert.ok(error.message.includes(`${file}:2: unrecognized action`), error.message);
  });

  it('ignores files that do not end in .cedar', async () => {
    writeFileSync(join(h.home, 'policies', 'README.txt'), 'this is not cedar (\n');
    await h.restart();
    assert.equal((await h.get('/healthz')).status, 200);
  });
});
