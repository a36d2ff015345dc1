import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { WritClient } from '../src/sdk/client.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * A commit that fails for real: a row written behind writ's back takes the ledger index writ is
 * about to use, so the writer's transaction violates the primary key and rolls back. writ must
 * answer UNAVAILABLE (nothing applied), reload its log heads from the store, and go on.
 */
describe('recovery after a failed commit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const product = (sku: string) => ({ sku, name: `Product ${sku}`, price: { amount: 100, currency: 'EUR' } });

  it('answers UNAVAILABLE with Retry-After, applies nothing, then applies the retried command exactly once', async () => {
    const first = await h.post(h.sign('UpsertProduct', product('before')));
    assert.equal(first.status, 200, first.raw);
    const next = first.body.receipt.index + 1;

    // Out of band: take the next index of the commerce log.
    const db = new Database(h.writ.config.store.path);
    db.pragma('busy_timeout = 5000');
    db.prepare('INSERT INTO ledger (tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?)').run(
      h.tenant, 'commerce', next, Buffer.from('{}'), '0'.repeat(64), 'out-of-band', 'intruder', '0'.repeat(64), 'OK', null, null,
    );
    db.close();

    // Over a real socket: the answer shape and Retry-After as a client sees them.
    const client = new WritClient(await h.listen(), h.reader);
    const envelope = h.sign('UpsertProduct', product('during'));
    const failed = await client.submit(envelope);
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.equal(failed.body.status, 'ERROR');
    assert.equal(failed.body.code, 'UNAVAILABLE');
    assert.equal(failed.headers.get('retry-after'), '1');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/during`)).status, 404, 'nothing of the failed batch is visible');

    // The same envelope again, until the applier has recovered: applied once, after the intruder's row.
    let retried = await h.post(envelope);
    for (let i = 0; i < 50 && retried.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 20));
      retried = await h.post(envelope);
    }
    assert.equal(retried.status, 200, retried.raw);
    assert.equal(retried.body.receipt.index, next + 1);
    const entity = await h.get(`/v1/entities/${h.tenant}/product/during`);
    assert.equal(entity.body.version, 1);
    const records = await h.writ.store.readLedger(h.tenant, 'commerce', 0, 100);
    assert.equal(records.filter((r) => r.requestId === envelope.requestId && r.outcome === 'OK').length, 1);

    // And the log goes on as usual.
    const after = await h.post(h.sign('UpsertProduct', product('after')));
    assert.equal(after.status, 200, after.raw);
    assert.equal(after.body.receipt.index, next + 2);
  });
});

describe('a store that cannot write any more', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('answers commands UNAVAILABLE and fails /healthz, so that a supervisor restarts writ', async () => {
    const client = new WritClient(await h.listen(), h.reader);
    assert.equal((await client.get('/healthz')).status, 200);
    // The writer thread dies (as it would on a fatal error).
    const store = h.writ.store as unknown as { worker: { terminate(): Promise<number> } };
    await store.worker.terminate();
    const res = await client.submit(h.sign('UpsertProduct', { sku: 'x', name: 'x', price: { amount: 1, currency: 'EUR' } }));
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'UNAVAILABLE');
    const health = await client.get('/healthz');
    assert.equal(health.status, 503);
    assert.equal(health.body.code, 'UNAVAILABLE');
    assert.match(health.body.message, /writer thread exited/);
    assert.equal(health.headers.get('retry-after'), '5');
  });
});
