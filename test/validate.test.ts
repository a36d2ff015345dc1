import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';
import { lastRecord } from './support/reference.js';

const TEA = { sku: 'tea-1', name: 'Tea', price: { amount: 450, currency: 'EUR' } };

describeEachBackend('the validate stage', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  describe('an unknown action', () => {
    it('is answered 400 UNKNOWN_ACTION', async () => {
      const res = await h.post(h.sign('NoSuchAction', { sku: 'x' }));
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.status, 'ERROR');
      assert.equal(res.body.code, 'UNKNOWN_ACTION');
      assert.match(res.body.message, /NoSuchAction/);
    });

    it('is an audited, rejected ledger record in the writ scroll', async () => {
      const env = h.sign('NoSuchActionEither', { a: 1 });
      const res = await h.post(env);
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.receipt.log, 'writ.local/default/writ');
      const last = await lastRecord(h.writ.store, h.tenant, 'writ');
      assert.ok(last);
      assert.equal(last.index, res.body.receipt.index);
      assert.equal(last.leafHash, res.body.receipt.leafHash);
      assert.equal(last.record.action, 'NoSuchActionEither');
      assert.equal(last.record.outcome, 'REJECTED');
      assert.equal(last.record.code, 'UNKNOWN_ACTION');
      assert.equal(last.record.requestId, env.requestId);
      assert.equal(last.record.actor, 'admin');
      assert.equal(last.record.version, null);
      assert.equal(last.record.resultHash, null);
    });

    it('stores its outcome, so GET /v1/commands answers it with the original status', async () => {
      const env = h.sign('StillNoSuchAction', {});
      await h.post(env);
      const status = await h.get(`/v1/commands/${h.tenant}/${env.requestId}`);
      assert.equal(status.status, 200);
      assert.equal(status.headers['writ-command-status'], '400');
      assert.equal(status.body.code, 'UNKNOWN_ACTION');
    });

    it('leaves no outbox event behind', async () => {
      const before = await h.writ.store.countOutbox();
      await h.post(h.sign('NoOutboxForMe', {}));
      assert.equal(await h.writ.store.countOutbox(), before);
    });
  });

  describe('an invalid payload', () => {
    async function invalid(payload: Record<string, unknown>) {
      const res = await h.post(h.sign('UpsertProduct', payload));
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.code, 'INVALID_PAYLOAD');
      assert.ok(Array.isArray(res.body.details?.errors), 'details.errors is a list');
      assert.ok(res.body.details.errors.length >= 1);
      return res.body as { message: string; details: { errors: Array<{ path: string; message: string; params?: Record<string, unknown> }> }; receipt: { log: string } };
    }

    it('names a missing required field in details.errors', async () => {
      const { sku, name, ...rest } = TEA;
      void name;
      const body = await invalid({ sku, ...rest });
      assert.ok(body.details.errors.some((e) => e.params?.missingProperty === 'name'), JSON.stringify(body.details));
    });

    it('names a field of the wrong type by its JSON pointer', async () => {
      const body = await invalid({ ...TEA, name: 5 });
      const e = body.details.errors.find((x) => x.path === '/name');
      assert.ok(e, JSON.stringify(body.details));
      assert.match(e.message, /string/);
    });

    it('names an extra field that the schema does not allow', async () => {
      const body = await invalid({ ...TEA, colour: 'green' });
      assert.ok(body.details.errors.some((e) => e.params?.additionalProperty === 'colour'), JSON.stringify(body.details));
    });

    it('refuses a price that is not an integer number of minor units', async () => {
      const body = await invalid({ ...TEA, price: { amount: 4.5, currency: 'EUR' } });
      const e = body.details.errors.find((x) => x.path === '/price/amount');
      assert.ok(e, JSON.stringify(body.details));
      assert.match(e.message, /integer/);
    });

    it('refuses a negative price and a lowercase currency in the same answer', async () => {
      const body = await invalid({ ...TEA, price: { amount: -1, currency: 'eur' } });
      const paths = body.details.errors.map((e) => e.path).sort();
      assert.deepEqual(paths, ['/price/amount', '/price/currency']);
    });

    it('records the rejection in the action\'s own scroll and changes no state', async () => {
      const body = await invalid({ ...TEA, sku: 'never-made', name: 42 });
      assert.equal(body.receipt.log, 'writ.local/default/commerce');
      const last = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(last?.record.code, 'INVALID_PAYLOAD');
      assert.equal(last?.record.outcome, 'REJECTED');
      const e = await h.get(`/v1/entities/${h.tenant}/product/never-made`);
      assert.equal(e.status, 404);
    });
  });

  describe('an explicit target', () => {
    it('is accepted when it agrees with the target the payload derives', async () => {
      const res = await h.post(h.sign('UpsertProduct', TEA, { target: 'product/tea-1' }));
      assert.equal(res.status, 200, res.raw);
      const last = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(last?.record.target, 'product/tea-1');
    });

    it('is refused as INVALID_PAYLOAD when it names another entity than the payload', async () => {
      const res = await h.post(h.sign('UpsertProduct', { ...TEA, sku: 'tea-2' }, { target: 'product/tea-3' }));
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.code, 'INVALID_PAYLOAD');
      assert.match(res.body.message, /product\/tea-2/);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/tea-2`)).status, 404);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/tea-3`)).status, 404);
    });

    it('is refused when it names another entity type', async () => {
      const res = await h.post(h.sign('UpsertProduct', { ...TEA, sku: 'tea-4' }, { target: 'page/tea-4' }));
      assert.equal(res.status, 400, res.raw);
      assert.equal(res.body.code, 'INVALID_PAYLOAD');
      const last = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(last?.record.target, 'page/tea-4', 'the audit record keeps the target the client claimed');
    });
  });
});
