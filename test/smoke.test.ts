import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';

describeEachBackend('the command pipeline over inject()', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  it('applies a signed UpsertProduct and serves the entity', async () => {
    const res = await h.post(h.sign('UpsertProduct', { sku: 'sku-1', name: 'Tea', price: { amount: 450, currency: 'EUR' } }));
    assert.equal(res.status, 200, res.raw);
    assert.equal(res.body.status, 'OK');
    assert.equal(res.body.receipt.log, 'writ.local/default/commerce');
    const e = await h.get('/v1/entities/default/product/sku-1');
    assert.equal(e.status, 200);
    assert.equal(e.body.version, 1);
    assert.deepEqual(e.body.doc.price, { amount: 450, currency: 'EUR' });
  });
});
