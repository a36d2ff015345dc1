import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { startHarness, type Harness } from './support/harness.js';
import { assertAppliedAtMostOnce, chainProblems, checkAnswer, readLedgerFromStore, readSince, storedLogSizes, type CheckedAnswer, type LedgerEntry } from './support/robustness.js';

/**
 * Races on one idempotency key and on one entity version (DESIGN §3 idempotency, §4 expectedVersion):
 * whatever the interleaving, a key is applied once and a version is won once.
 */

const AT_ONCE = 50;
// 50 commands at once: more than the default server.maxInFlight lets in.
const UNLIMITED = { limits: { rate: 100_000_000, windowSeconds: 60 }, server: { maxInFlight: 1000 } };

interface Hit extends CheckedAnswer {
  readonly http: number;
  readonly text: string;
  readonly replayed: boolean;
}

describeEachBackend('concurrent submissions', (backend) => {
  let h: Harness;
  let url: string;

  before(async () => {
    h = await startHarness(UNLIMITED, { backend });
    url = await h.listen();
  });
  after(async () => {
    await h?.close();
  });

  async function overSocket(text: string): Promise<Hit> {
    const res = await fetch(`${url}/v1/commands`, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
    const body = await res.text();
    return { ...checkAnswer(res.status, res.headers.get('content-type'), body), http: res.status, text: body, replayed: res.headers.get('idempotent-replayed') === 'true' };
  }
  async function overInject(text: string): Promise<Hit> {
    const res = await h.app.inject({ method: 'POST', url: '/v1/commands', payload: text, headers: { 'content-type': 'application/json' } });
    return { ...checkAnswer(res.statusCode, res.headers['content-type'], res.body), http: res.statusCode, text: res.body, replayed: res.headers['idempotent-replayed'] === 'true' };
  }
  const transports: ReadonlyArray<[string, (text: string, i: number) => Promise<Hit>]> = [
    ['a real socket', (text) => overSocket(text)],
    ['inject()', (text) => overInject(text)],
    ['a real socket and inject() at once', (text, i) => (i % 2 ? overSocket(text) : overInject(text))],
  ];

  function product(sku: string, extra: Record<string, unknown> = {}, name = 'Tea') {
    return signEnvelope({ action: 'UpsertProduct', payload: { sku, name, price: { amount: 450, currency: 'EUR' } }, ...extra }, h.admin, { tenant: h.tenant });
  }

  /** Runs the race and returns the ledger records it added, after checking the whole ledger. */
  async function race(send: () => Promise<Hit[]>): Promise<{ hits: Hit[]; added: LedgerEntry[] }> {
    const sizes = await storedLogSizes(h.writ.store);
    const hits = await send();
    const added = await readSince(h.writ.store, sizes);
    const all = await readLedgerFromStore(h.writ.store);
    assert.deepEqual(chainProblems(all), []);
    assertAppliedAtMostOnce(all);
    assert.equal(h.writ.idempotency.inFlight, 0, 'an idempotency claim leaked');
    return { hits, added };
  }

  async function versionOf(sku: string): Promise<number | undefined> {
    return (await h.writ.store.getEntity(h.tenant, 'product', sku))?.version;
  }

  for (const [name, send] of transports) {
    describe(`over ${name}`, () => {
      it(`applies an identical envelope sent ${AT_ONCE} times at once exactly once, answering the rest with the stored response or IDEMPOTENCY_IN_PROGRESS, unrecorded`, async () => {
        const sku = `same-${randomUUID()}`;
        const { envelope, commandHash } = product(sku);
        const text = JSON.stringify(envelope);
        const { hits, added } = await race(() => Promise.all(Array.from({ length: AT_ONCE }, (_, i) => send(text, i))));

        const stored = await h.writ.store.getOutcome(h.tenant, 'admin', envelope.requestId);
        assert.ok(stored, 'no outcome was stored');
        assert.equal(stored.commandHash, commandHash);
        const ok = hits.filter((a) => a.http === 200);
        for (const a of ok) assert.equal(a.text, stored.response, 'a 200 answer differs from the stored response');
        assert.equal(ok.filter((a) => !a.replayed).length, 1, 'exactly one answer is the original one');
        for (const a of hits.filter((x) => x.http !== 200)) assert.equal(a.code, 'IDEMPOTENCY_IN_PROGRESS', a.text);

        const records = added.filter((e) => e.record.requestId === envelope.requestId);
        assert.equal(records.filter((e) => e.record.outcome === 'OK').length, 1);
        assert.equal(records.length, 1, 'IDEMPOTENCY_IN_PROGRESS refusals are not recorded');
        assert.equal(added.length, records.length, 'the race wrote records of other commands');
        assert.equal(await versionOf(sku), 1);

        const retry = await send(text, 0);
        assert.equal(retry.text, stored.response);
        assert.equal(retry.replayed, true);
      });

      it(`applies exactly one of ${AT_ONCE} different envelopes that share a requestId, refusing the others as IDEMPOTENCY_KEY_REUSED or IN_PROGRESS`, async () => {
        const requestId = `shared-${randomUUID()}`;
        const skus = Array.from({ length: AT_ONCE }, (_, i) => `shared-${i}-${randomUUID()}`);
        const envelopes = skus.map((sku) => product(sku, { requestId }));
        const { hits, added } = await race(() => Promise.all(envelopes.map(({ envelope }, i) => send(JSON.stringify(envelope), i))));

        const winners = hits.flatMap((a, i) => (a.http === 200 ? [i] : []));
        assert.equal(winners.length, 1, `${winners.length} commands with one requestId were answered 200`);
        const [w] = winners;
        assert.equal(hits[w].replayed, false);
        assert.equal(hits[w].commandHash, envelopes[w].commandHash);
        for (const a of hits.filter((_, i) => i !== w)) {
          assert.ok(a.code === 'IDEMPOTENCY_KEY_REUSED' || a.code === 'IDEMPOTENCY_IN_PROGRESS', a.text);
        }
        const ok = added.filter((e) => e.record.outcome === 'OK');
        assert.equal(ok.length, 1);
        assert.equal(ok[0].record.commandHash, envelopes[w].commandHash);
        for (const [i, sku] of skus.entries()) assert.equal(await versionOf(sku), i === w ? 1 : undefined, `product ${i}`);

        const lookup = await h.get(`/v1/commands/${h.tenant}/${requestId}`);
        assert.equal(lookup.status, 200);
        assert.equal(lookup.body.commandHash, envelopes[w].commandHash);
        for (const [i, { envelope }] of envelopes.entries()) {
          const again = await send(JSON.stringify(envelope), i);
          if (i === w) assert.equal(again.text, hits[w].text);
          else assert.equal(again.code, 'IDEMPOTENCY_KEY_REUSED', again.text);
        }
      });

      it('lets exactly one of many racing commands win each expectedVersion and answers the rest VERSION_CONFLICT with details.current', async () => {
        const sku = `versioned-${randomUUID()}`;
        const rounds = 5;
        const racers = 20;
        const winners: string[] = [];
        for (let v = 0; v < rounds; v++) {
          const envelopes = Array.from({ length: racers }, (_, i) => product(sku, { expectedVersion: v }, `round ${v} racer ${i}`));
          const { hits, added } = await race(() => Promise.all(envelopes.map(({ envelope }, i) => send(JSON.stringify(envelope), i))));
          const won = hits.flatMap((a, i) => (a.status === 'OK' ? [i] : []));
          assert.equal(won.length, 1, `round ${v}: ${won.length} winners`);
          winners.push(`round ${v} racer ${won[0]}`);
          for (const a of hits.filter((x) => x.status !== 'OK')) {
            assert.equal(a.code, 'VERSION_CONFLICT', a.text);
            assert.equal(a.details?.current, v + 1, `round ${v}: ${a.text}`);
            assert.equal(a.details?.expected, v);
          }
          assert.deepEqual(
            added.map((e) => [e.record.outcome, e.record.code, e.record.version]).sort(),
            [['OK', null, v + 1], ...Array.from({ length: racers - 1 }, () => ['REJECTED', 'VERSION_CONFLICT', null])].sort(),
          );
        }
        const entity = await h.writ.store.getEntity(h.tenant, 'product', sku);
        assert.equal(entity?.version, rounds);
        assert.equal((entity?.doc as { name: string }).name, winners[rounds - 1]);
      });
    });
  }
});
