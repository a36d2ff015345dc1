import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { openReadsWarning } from '../src/access/open-reads.js';
import { loadConfig } from '../src/config/config.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';

const HOLD = '@approval("quorum=1 roles=publisher")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n';
const product = (sku: string) => ({ sku, name: sku, price: { amount: 1, currency: 'EUR' } });

describeEachBackend('reads: what the shipped policies let each caller see', (backend) => {
  let h: Harness;
  let ed: Signer; // editor: a member
  let mo: Signer; // merch: its upserts wait for a publisher
  let pia: Signer; // publisher: approves them
  let aud: Signer; // auditor: reads everything, changes nothing
  let approvalId = '';
  let edRequest = '';

  const as = (signer: Signer | null, path: string, method: 'GET' | 'POST' = 'GET') => h.getAs(path, signer, { method });

  before(async () => {
    h = await startHarness({}, { backend });
    writeFileSync(join(h.home, 'policies', 'hold.cedar'), HOLD);
    await h.restart();
    ed = await h.actor('ed', ['editor']);
    mo = await h.actor('mo', ['merch']);
    pia = await h.actor('pia', ['publisher']);
    aud = await h.actor('aud', ['auditor']);
    const put = h.sign('UpsertProduct', product('tea'), {}, ed);
    edRequest = put.requestId;
    assert.equal((await h.post(put)).status, 200);
    const held = await h.post(h.sign('UpsertProduct', product('held'), {}, mo));
    assert.equal(held.status, 202, held.raw);
    approvalId = held.body.approval.id;
  });
  after(() => h?.close());

  it("lets a member read its tenant's entities, ledger records and approvals", async () => {
    assert.equal((await as(ed, '/v1/entities/default/product/tea')).status, 200);
    assert.equal((await as(ed, '/v1/ledger/default/commerce/records')).status, 200);
    assert.equal((await as(ed, '/v1/approvals')).status, 200);
  });

  it('keeps envelopes, keys and roles of others, and the outbox from a member', async () => {
    assert.equal((await as(ed, '/v1/ledger/default/commerce/records?envelopes=true')).body.code, 'FORBIDDEN');
    assert.equal((await as(ed, '/v1/entities/default/key')).body.code, 'FORBIDDEN');
    assert.equal((await as(ed, '/v1/entities/default/actor/mo')).body.code, 'FORBIDDEN');
    assert.equal((await as(ed, `/v1/entities/default/approval/${approvalId}`)).body.code, 'FORBIDDEN');
    assert.equal((await as(ed, '/v1/outbox/events')).body.code, 'FORBIDDEN');
  });

  it('lets a member read what is its own: its actor entity, its key, the answers to its commands', async () => {
    assert.deepEqual((await as(ed, '/v1/entities/default/actor/ed')).body.doc.roles, ['editor']);
    assert.equal((await as(ed, '/v1/entities/default/key/ed%231')).status, 200);
    assert.equal((await as(ed, `/v1/commands/default/${edRequest}`)).status, 200);
    assert.equal((await as(mo, `/v1/commands/default/${edRequest}`)).body.code, 'FORBIDDEN');
  });

  it('shows a held command to its requester and to the approvers it asks for, not to other members', async () => {
    const seen = async (signer: Signer) => (await as(signer, `/v1/approvals/${approvalId}`)).body;
    for (const signer of [mo, pia, h.admin, aud]) {
      const body = await seen(signer);
      assert.equal(body.command?.payload?.sku, 'held', signer.keyId);
      assert.ok(body.preview, signer.keyId);
    }
    const member = await seen(ed);
    assert.equal(member.command, null);
    assert.equal(member.preview, null);
    assert.deepEqual(member.hidden, ['command', 'preview', 'answer']);
    assert.equal(member.commandHash.length, 64, 'the summary stays visible');
  });

  it('lets an auditor read envelopes, keys and the outbox, but not retry, redrive or checkpoint', async () => {
    assert.equal((await as(aud, '/v1/ledger/default/commerce/records?envelopes=true')).status, 200);
    assert.equal((await as(aud, '/v1/entities/default/key')).status, 200);
    assert.equal((await as(aud, '/v1/outbox/events')).status, 200);
    assert.equal((await as(aud, '/v1/outbox/retry', 'POST')).body.code, 'FORBIDDEN');
    assert.equal((await as(aud, '/v1/logs/default/commerce/checkpoint', 'POST')).body.code, 'FORBIDDEN');
  });

  it('answers /healthz with liveness only, except to an operator', async () => {
    assert.deepEqual((await as(null, '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await as(ed, '/healthz')).body, { status: 'ok' });
    const details = (await as(aud, '/healthz')).body;
    assert.equal(details.reads, 'policy');
    assert.ok(Array.isArray(details.logs));
  });

  it("lets the home's policies narrow reads like writes", async () => {
    writeFileSync(join(h.home, 'policies', 'ledger.cedar'), 'forbid (principal, action == Writ::Action::"read:ledger", resource) unless { principal in Writ::Role::"admin" };\n');
    await h.restart();
    try {
      assert.equal((await as(ed, '/v1/ledger/default/commerce/records')).body.code, 'FORBIDDEN');
      assert.equal((await as(h.admin, '/v1/ledger/default/commerce/records')).status, 200);
    } finally {
      writeFileSync(join(h.home, 'policies', 'ledger.cedar'), '');
      await h.restart();
    }
  });

  it('grants no read through a permit that asks for approval (a read cannot wait)', async () => {
    writeFileSync(join(h.home, 'policies', 'held-read.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"editor", action == Writ::Action::"read:keys", resource);\n');
    await h.restart();
    try {
      assert.equal((await as(ed, '/v1/entities/default/key')).body.code, 'FORBIDDEN');
    } finally {
      writeFileSync(join(h.home, 'policies', 'held-read.cedar'), '');
      await h.restart();
    }
  });
});

describeEachBackend('reads: auth.reads = "open"', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ auth: { reads: 'open' } } as never, { backend });
    assert.equal((await h.post(h.sign('UpsertProduct', product('tea')))).status, 200);
  });
  after(() => h?.close());

  it('lets anyone read, and says so in /healthz', async () => {
    assert.equal((await h.getAs('/v1/entities/default/product/tea', null)).status, 200);
    assert.equal((await h.getAs('/v1/ledger/default/commerce/records?envelopes=true', null)).status, 200);
    assert.equal((await h.getAs('/healthz', null)).body.reads, 'open');
  });

  it('still needs an admin for operator actions', async () => {
    assert.equal((await h.getAs('/v1/logs/default/commerce/checkpoint', null, { method: 'POST' })).status, 401);
    assert.equal((await h.getAs('/v1/logs/default/commerce/checkpoint', h.admin, { method: 'POST' })).status, 200);
  });

  it('warns on loopback and refuses another address unless forced', () => {
    const config = loadConfig(h.home);
    assert.match(openReadsWarning(config, false) ?? '', /WARNING: auth.reads is "open"/);
    const exposed = loadConfig(h.home, { server: { host: '0.0.0.0' } });
    assert.throws(() => openReadsWarning(exposed, false), /not loopback.*--force-open-reads/s);
    assert.match(openReadsWarning(exposed, true) ?? '', /ANYONE/);
    assert.equal(openReadsWarning(loadConfig(h.home, { auth: { reads: 'policy' } } as never), false), null);
  });
});
