import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runWrit, servedHome } from './support/cli.js';

describe('writ rates export', () => {
  const { scratch, home, server, writ } = servedHome('writ-rates-', ['--port', '0']);
  const submit = async (action: string, payload: Record<string, unknown>) => {
    const file = join(scratch, `${action}-${String(payload.rateId)}.json`);
    writeFileSync(file, JSON.stringify({ action, payload }));
    const run = await writ('submit', file);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  };

  it('writes the rates submitted through the server to the two NDJSON files it is given', async () => {
    await submit('AddShippingRate', { rateId: 'eu', name: 'EU', countries: ['DE', 'AT'], price: { amount: 490, currency: 'EUR' } });
    await submit('AddTaxRate', { rateId: 'de-std', country: 'DE', basisPoints: 1900 });
    await submit('AddTaxRate', { rateId: 'at-std', country: 'AT', basisPoints: 2000 });
    const shipping = join(scratch, 'shipping.ndjson');
    const tax = join(scratch, 'tax.ndjson');
    const run = await writ('rates', 'export', '--shipping', shipping, '--tax', tax);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { tenant: 'default', shipping: { file: shipping, rates: 1 }, tax: { file: tax, rates: 2 } });
    const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines(shipping), [{ rateId: 'eu', name: 'EU', countries: ['DE', 'AT'], price: { amount: 490, currency: 'EUR' }, version: 1 }]);
    assert.deepEqual(lines(tax).map((r) => r.rateId), ['at-std', 'de-std']);
  });
});
