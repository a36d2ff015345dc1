import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { MAX_DISPUTE_EVIDENCE } from '../src/packs/commerce/handlers.js';
import type { Signer } from '../src/sdk/sign.js';
import { WritClient } from '../src/sdk/client.js';
import { exportRates, ndjson } from '../src/transports/cli/rates.js';
import { startHarness, type Harness } from './support/harness.js';
import { ledgerSize } from './support/stage-helpers.js';

const SHA256 = 'a'.repeat(64);

describeEachBackend('the commerce pack: stock, price rules, shipping and tax rates, dispute evidence', (backend) => {
  let h: Harness;
  let editor: Signer;
  let support: Signer;
  before(async () => {
    h = await startHarness({}, { backend });
    editor = await h.actor('ed', ['editor']);
    support = await h.actor('sam', ['support']);
  });
  after(() => h.close());

  const run = (action: string, payload: Record<string, unknown>, signer?: Signer) => h.post(h.sign(action, payload, {}, signer));
  const entity = (type: string, id: string) => h.get(`/v1/entities/${h.tenant}/${type}/${encodeURIComponent(id)}`);

  async function ok(action: string, payload: Record<string, unknown>, signer?: Signer) {
    const res = await run(action, payload, signer);
    assert.equal(res.status, 200, `${action}: ${res.raw}`);
    return res.body;
  }

  /** Refused with `code`, and the target entity `type/id` is left as it was. */
  async function refused(code: string, action: string, payload: Record<string, unknown>, target: [string, string], signer?: Signer) {
    const before = (await entity(...target)).body;
    const res = await run(action, payload, signer);
    assert.equal(res.body.code, code, `${action}: ${res.raw}`);
    assert.deepEqual((await entity(...target)).body, before, `${action} changed ${target.join('/')}`);
    return res.body;
  }

  it('UpsertInventory refuses stock of a product that does not exist, then sets it once the product does', async () => {
    const stock = { sku: 'tea', location: 'main', onHand: 40, reserved: 5 };
    const body = await refused('NOT_FOUND', 'UpsertInventory', stock, ['inventory', 'tea@main']);
    assert.match(body.message, /UpsertProduct first/);
    await ok('UpsertProduct', { sku: 'tea', name: 'Tea', price: { amount: 450, currency: 'EUR' } });
    assert.deepEqual((await ok('UpsertInventory', stock)).result, { type: 'inventory', id: 'tea@main', created: true });
    assert.deepEqual((await entity('inventory', 'tea@main')).body.doc, stock);
  });

  it('UpsertInventory refuses more reserved than on hand, and negative stock', async () => {
    const body = await refused('INVALID_PAYLOAD', 'UpsertInventory', { sku: 'tea', location: 'main', onHand: 3, reserved: 4 }, ['inventory', 'tea@main']);
    assert.deepEqual(body.details.errors, [{ path: '/reserved', message: 'must not exceed onHand (3)' }]);
    await refused('INVALID_PAYLOAD', 'UpsertInventory', { sku: 'tea', location: 'main', onHand: -1 }, ['inventory', 'tea@main']);
  });

  it('UpsertPriceRule takes exactly one of percentOff and amountOff, "*" alone, and endsAt after startsAt', async () => {
    const rule = { ruleId: 'winter', name: 'Winter sale', skus: ['tea'], startsAt: '2026-12-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' };
    const target: [string, string] = ['price-rule', 'winter'];
    await refused('INVALID_PAYLOAD', 'UpsertPriceRule', rule, target);
    await refused('INVALID_PAYLOAD', 'UpsertPriceRule', { ...rule, percentOff: 10, amountOff: { amount: 100, currency: 'EUR' } }, target);
    await refused('INVALID_PAYLOAD', 'UpsertPriceRule', { ...rule, percentOff: 10, skus: ['*', 'tea'] }, target);
    const late = await refused('INVALID_PAYLOAD', 'UpsertPriceRule', { ...rule, percentOff: 10, endsAt: '2026-11-30T00:00:00Z' }, target);
    assert.equal(late.details.errors[0].path, '/endsAt');
    await refused('INVALID_PAYLOAD', 'UpsertPriceRule', { ...rule, percentOff: 101 }, target);
    await ok('UpsertPriceRule', { ...rule, percentOff: 10 });
    await ok('UpsertPriceRule', { ...rule, skus: ['*'], amountOff: { amount: 100, currency: 'EUR' } });
    const doc = (await entity(...target)).body;
    assert.equal(doc.version, 2);
    assert.deepEqual(doc.doc.amountOff, { amount: 100, currency: 'EUR' });
    assert.equal(doc.doc.percentOff, undefined, 'a rule is replaced whole');
  });

  it('AddShippingRate refuses a weight range upside down, a free-above threshold in another currency and a country that is not ISO 3166', async () => {
    const rate = { rateId: 'eu-std', name: 'EU standard', countries: ['DE', 'FR'], price: { amount: 490, currency: 'EUR' } };
    const target: [string, string] = ['shipping-rate', 'eu-std'];
    await refused('INVALID_PAYLOAD', 'AddShippingRate', { ...rate, minWeightGrams: 2000, maxWeightGrams: 1000 }, target);
    await refused('INVALID_PAYLOAD', 'AddShippingRate', { ...rate, freeAbove: { amount: 5000, currency: 'USD' } }, target);
    await refused('INVALID_PAYLOAD', 'AddShippingRate', { ...rate, countries: ['de'] }, target);
    await ok('AddShippingRate', { ...rate, maxWeightGrams: 2000, freeAbove: { amount: 5000, currency: 'EUR' }, deliveryDays: 3 });
    assert.equal((await entity(...target)).body.doc.freeAbove.amount, 5000);
  });

  it('AddTaxRate refuses a region of another country and more than 100 %', async () => {
    const rate = { rateId: 'us-ca', country: 'US', region: 'US-CA', basisPoints: 725 };
    const target: [string, string] = ['tax-rate', 'us-ca'];
    await refused('INVALID_PAYLOAD', 'AddTaxRate', { ...rate, region: 'CA-ON' }, target);
    await refused('INVALID_PAYLOAD', 'AddTaxRate', { ...rate, basisPoints: 10001 }, target);
    await refused('INVALID_PAYLOAD', 'AddTaxRate', { ...rate, validFrom: '2027-01-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }, target);
    await ok('AddTaxRate', rate);
    assert.equal((await entity(...target)).body.doc.basisPoints, 725);
  });

  it('AddDisputeEvidence appends each piece with who added it and when, oldest first', async () => {
    const first = { url: 'https://files.example.com/receipt-1.pdf', type: 'receipt', fileName: 'receipt-1.pdf' };
    const second = { hash: SHA256, hashAlgo: 'sha256', type: 'correspondence', note: 'Customer confirmed delivery by e-mail.' };
    assert.deepEqual((await ok('AddDisputeEvidence', { disputeId: 'dp_1', evidence: first })).result, { type: 'dispute', id: 'dp_1', pieces: 1 });
    await ok('AddDisputeEvidence', { disputeId: 'dp_1', evidence: second }, support);
    const doc = (await entity('dispute', 'dp_1')).body.doc;
    assert.equal(doc.evidence.length, 2);
    assert.deepEqual({ ...doc.evidence[0], addedAt: undefined }, { ...first, addedBy: 'admin', addedAt: undefined });
    assert.equal(doc.evidence[1].addedBy, 'sam');
    assert.equal(doc.evidence[1].hash, SHA256);
    assert.ok(Date.parse(doc.evidence[1].addedAt) >= Date.parse(doc.evidence[0].addedAt));
  });

  it('AddDisputeEvidence refuses a piece without url or hash, a hash without its algorithm or of the wrong length, a link that is not https and a file name with a path', async () => {
    const target: [string, string] = ['dispute', 'dp_1'];
    const add = (evidence: Record<string, unknown>) => refused('INVALID_PAYLOAD', 'AddDisputeEvidence', { disputeId: 'dp_1', evidence }, target);
    await add({ type: 'other', note: 'nothing to point at' });
    await add({ hash: SHA256, type: 'receipt' });
    await add({ hash: 'b'.repeat(128), hashAlgo: 'sha256', type: 'receipt' });
    await add({ hash: SHA256, hashAlgo: 'md5', type: 'receipt' });
    await add({ url: 'http://files.example.com/x.pdf', type: 'receipt' });
    await add({ url: 'javascript:alert(1)', type: 'receipt' });
    await add({ url: 'https://files.example.com/x.pdf', type: 'receipt', fileName: '../../etc/passwd' });
    await add({ url: 'https://files.example.com/x.pdf', type: 'receipt', note: 'n'.repeat(4097) });
  });

  it(`AddDisputeEvidence refuses a piece past ${MAX_DISPUTE_EVIDENCE} per dispute, recording the refusal and changing nothing`, async () => {
    for (let i = 0; i < MAX_DISPUTE_EVIDENCE; i++) await ok('AddDisputeEvidence', { disputeId: 'dp_full', evidence: { url: `https://files.example.com/${i}.pdf`, type: 'other' } });
    const size = await ledgerSize(h);
    const body = await refused('INVALID_STATE', 'AddDisputeEvidence', { disputeId: 'dp_full', evidence: { url: 'https://files.example.com/one-more.pdf', type: 'other' } }, ['dispute', 'dp_full']);
    assert.deepEqual(body.details, { count: MAX_DISPUTE_EVIDENCE, max: MAX_DISPUTE_EVIDENCE });
    assert.equal(await ledgerSize(h), size + 1, 'the refusal is a ledger record, as every authenticated rejection');
  });

  it('lets editors set products and stock but not rates or rules, and support staff add dispute evidence only', async () => {
    await ok('UpsertInventory', { sku: 'tea', location: 'annex', onHand: 2 }, editor);
    await refused('FORBIDDEN', 'AddTaxRate', { rateId: 'ed-tax', country: 'DE', basisPoints: 1900 }, ['tax-rate', 'ed-tax'], editor);
    await refused('FORBIDDEN', 'UpsertPriceRule', { ruleId: 'ed-rule', name: 'x', skus: ['*'], percentOff: 50 }, ['price-rule', 'ed-rule'], editor);
    await refused('FORBIDDEN', 'AddDisputeEvidence', { disputeId: 'dp_2', evidence: { url: 'https://e.example.com/a', type: 'other' } }, ['dispute', 'dp_2'], editor);
    await refused('FORBIDDEN', 'AddShippingRate', { rateId: 'sam-ship', name: 'x', countries: ['DE'], price: { amount: 0, currency: 'EUR' } }, ['shipping-rate', 'sam-ship'], support);
    await refused('FORBIDDEN', 'UpsertInventory', { sku: 'tea', location: 'main', onHand: 0 }, ['inventory', 'tea@main'], support);
  });

  it('exports the active shipping and tax rates as NDJSON lines ordered by rateId, each with its version', async () => {
    await ok('AddShippingRate', { rateId: 'a-first', name: 'Express', countries: ['DE'], price: { amount: 1290, currency: 'EUR' } });
    await ok('AddShippingRate', { rateId: 'z-off', name: 'Retired', countries: ['DE'], price: { amount: 0, currency: 'EUR' }, active: false });
    await ok('AddTaxRate', { rateId: 'de-std', country: 'DE', category: 'standard', basisPoints: 1900, inclusive: true });
    await ok('AddTaxRate', { rateId: 'de-std', country: 'DE', category: 'standard', basisPoints: 1900, inclusive: false });
    const out = await exportRates(new WritClient(await h.listen(), h.reader), h.tenant);
    assert.deepEqual(
      out.shipping.map((r) => [r.rateId, r.version]),
      [
        ['a-first', 1],
        ['eu-std', 1],
      ],
    );
    assert.deepEqual(
      out.tax.map((r) => [r.rateId, r.version, r.inclusive]),
      [
        ['de-std', 2, false],
        ['us-ca', 1, undefined],
      ],
    );
    const text = ndjson(out.tax);
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(text.trimEnd().split('\n').map((l) => JSON.parse(l)), out.tax);
    assert.equal(ndjson([]), '');
  });
});
