import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import type { Signer } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { testOutbox } from './support/outbox.js';
import { actorIn } from './support/tenants.js';

/**
 * The reads of issue 11, item 1, as an anonymous caller on the network would make them: every
 * one of them answered another tenant's data (entities, envelopes, stored answers, approvals,
 * keys, the outbox of all tenants) or ran an operator action before reads were authorised.
 */
describeEachBackend('reads: what an anonymous caller used to get', (backend) => {
  const OTHER = 'other';
  let h: Harness;
  let dir: string;
  let olga: Signer;
  let requestId = '';
  let approvalId = '';

  const anonymous = (method: 'GET' | 'POST', url: string) => h.app.inject({ method, url });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'writ-reads-'));
    h = await startHarness(testOutbox([{ name: 'file', kind: 'ndjson', path: join(dir, 'events.ndjson') }]), { backend });
    writeFileSync(join(h.home, 'policies', 'hold.cedar'), '@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
    await h.restart();
    olga = await actorIn(h, OTHER, 'olga', ['admin']);
    const mo = await actorIn(h, OTHER, 'mo', ['merch']);
    const put = h.sign('UpsertProduct', { sku: 'secret-1', name: 'Unreleased', price: { amount: 1, currency: 'EUR' } }, { tenant: OTHER }, olga);
    requestId = put.requestId;
    assert.equal((await h.post(put)).status, 200);
    const held = await h.post(h.sign('UpsertProduct', { sku: 'secret-2', name: 'Held', price: { amount: 2, currency: 'EUR' } }, { tenant: OTHER }, mo));
    assert.equal(held.status, 202, held.raw);
    approvalId = held.body.approval.id;
  });

  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses another tenant's entity", async () => {
    const res = await anonymous('GET', `/v1/entities/${OTHER}/product/secret-1`);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(JSON.parse(res.body).code, 'UNAUTHENTICATED');
  });

  it('refuses ledger records with their envelopes', async () => {
    assert.equal((await anonymous('GET', `/v1/ledger/${OTHER}/commerce/records?envelopes=true`)).statusCode, 401);
  });

  it('refuses a stored answer', async () => {
    assert.equal((await anonymous('GET', `/v1/commands/${OTHER}/${requestId}`)).statusCode, 401);
  });

  it('refuses an approval with the command it holds', async () => {
    assert.equal((await anonymous('GET', `/v1/approvals/${approvalId}?tenant=${OTHER}`)).statusCode, 401);
    assert.equal((await anonymous('GET', `/v1/entities/${OTHER}/approval/${approvalId}`)).statusCode, 401);
  });

  it('refuses keys and roles', async () => {
    assert.equal((await anonymous('GET', `/v1/entities/${OTHER}/key`)).statusCode, 401);
    assert.equal((await anonymous('GET', `/v1/entities/${OTHER}/actor/olga`)).statusCode, 401);
  });

  it('refuses the outbox events of all tenants', async () => {
    assert.equal((await anonymous('GET', '/v1/outbox/events')).statusCode, 401);
    assert.equal((await anonymous('GET', '/v1/outbox/dead-letters')).statusCode, 401);
  });

  it('refuses the operator actions retry, redrive and checkpoint', async () => {
    assert.equal((await anonymous('POST', '/v1/outbox/retry')).statusCode, 401);
    assert.equal((await anonymous('POST', '/v1/outbox/dead-letters/redrive')).statusCode, 401);
    assert.equal((await anonymous('POST', `/v1/logs/${OTHER}/commerce/checkpoint`)).statusCode, 401);
  });
});
