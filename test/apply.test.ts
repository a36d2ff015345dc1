import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';
import { GENESIS, LEAF_FIELDS, lastRecord, readLog, refCommandHash, refJcs, refLeafHash, sha256 } from './support/reference.js';

const tea = (sku: string, amount = 450) => ({ sku, name: `Tea ${sku}`, price: { amount, currency: 'EUR' } });

describeEachBackend('the apply stage', (backend) => {
  let h: Harness;
  before(async () => {
    // The group-commit test submits hundreds of commands as one actor; lift the rate limit for it.
    // Group commit is tested with 200 commands at once: more than the default server.maxInFlight lets in.
    h = await startHarness({ limits: { rate: 100_000 }, server: { maxInFlight: 1000 } } as never, { backend });
  });
  after(() => h.close());

  describe('expectedVersion', () => {
    it('creates an entity with expectedVersion 0 when it does not exist yet', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-1'), { expectedVersion: 0 }));
      assert.equal(res.status, 200, res.raw);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/ev-1`)).body.version, 1);
    });

    it('answers 409 VERSION_CONFLICT with details.current for expectedVersion 0 on an existing entity', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-1', 999), { expectedVersion: 0 }));
      assert.equal(res.status, 409, res.raw);
      assert.equal(res.body.code, 'VERSION_CONFLICT');
      assert.equal(res.body.details.current, 1);
      assert.equal(res.body.details.expected, 0);
      const e = await h.get(`/v1/entities/${h.tenant}/product/ev-1`);
      assert.equal(e.body.version, 1, 'the entity is unchanged');
      assert.equal(e.body.doc.price.amount, 450);
    });

    it('applies a command whose expectedVersion matches, and bumps the version', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-1', 500), { expectedVersion: 1 }));
      assert.equal(res.status, 200, res.raw);
      const e = await h.get(`/v1/entities/${h.tenant}/product/ev-1`);
      assert.equal(e.body.version, 2);
      assert.equal(e.body.doc.price.amount, 500);
      const last = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(last?.record.version, 2);
    });

    it('refuses a stale version and reports the current one', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-1', 600), { expectedVersion: 1 }));
      assert.equal(res.status, 409, res.raw);
      assert.equal(res.body.code, 'VERSION_CONFLICT');
      assert.equal(res.body.details.current, 2);
      const last = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(last?.record.outcome, 'REJECTED');
      assert.equal(last?.record.code, 'VERSION_CONFLICT');
      assert.equal(last?.record.version, null);
    });

    it('refuses a version ahead of the entity', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-1', 700), { expectedVersion: 7 }));
      assert.equal(res.status, 409);
      assert.equal(res.body.details.current, 2);
    });

    it('checks a missing entity as version 0', async () => {
      const res = await h.post(h.sign('UpsertProduct', tea('ev-missing'), { expectedVersion: 1 }));
      assert.equal(res.status, 409);
      assert.equal(res.body.details.current, 0);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/ev-missing`)).status, 404);
    });

    it('applies only one of two concurrent commands that expect the same version', async () => {
      await h.post(h.sign('UpsertProduct', tea('ev-race'), { expectedVersion: 0 }));
      const [a, b] = await Promise.all([
        h.post(h.sign('UpsertProduct', tea('ev-race', 1), { expectedVersion: 1 })),
        h.post(h.sign('UpsertProduct', tea('ev-race', 2), { expectedVersion: 1 })),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [200, 409]);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/ev-race`)).body.version, 2);
    });
  });

  describe('ledger records', () => {
    const sent = new Map<string, { envelope: Record<string, any>; answer: any }>();
    before(async () => {
      // A mix of accepted and refused commands across three scrolls.
      const commands = [
        h.sign('UpsertProduct', tea('chain-1')),
        h.sign('UpsertProduct', tea('chain-1', 1)),
        h.sign('UpsertProduct', tea('chain-2'), { expectedVersion: 5 }),
        h.sign('SaveDraftPage', { pageId: 'chain', title: 'Ünïcödé ✓', blocks: [{ type: 'text', text: 'a\u2028b' }] }),
        h.sign('SubmitForReview', { pageId: 'chain' }),
        h.sign('ApproveContent', { pageId: 'chain' }),
        h.sign('PublishPageVersion', { pageId: 'chain' }),
        h.sign('PublishPageVersion', { pageId: 'chain' }),
        h.sign('UpsertProfile', { actor: 'admin', displayName: 'Ada' }),
        h.sign('NotAnAction', {}),
      ];
      for (const envelope of commands) sent.set(envelope.requestId, { envelope, answer: (await h.post(envelope)).body });
      // Another tenant, bootstrapped on writ's own authority, has logs of its own.
      await h.writ.pipeline.system('acme', 'UpsertProduct', tea('acme-1'), 'acme-product-1');
      await h.writ.pipeline.system('acme', 'UpsertProduct', tea('acme-2'), 'acme-product-2');
    });

    it('chain every record to the leaf hash of the previous one, per (tenant, scroll), from 64 zeros', async () => {
      const heads = await h.writ.store.logHeads();
      const keys = heads.map((x) => `${x.tenant}/${x.scroll}`).sort();
      for (const log of ['acme/commerce', 'default/access', 'default/commerce', 'default/content', 'default/writ']) assert.ok(keys.includes(log), `log ${log} exists`);
      for (const head of heads) {
        const records = await readLog(h.writ.store, head.tenant, head.scroll);
        assert.equal(records.length, head.size);
        let prev = GENESIS;
        records.forEach((r, i) => {
          assert.equal(r.index, i, 'indexes are contiguous from 0');
          assert.equal(r.record.index, i);
          assert.equal(r.record.tenant, head.tenant);
          assert.equal(r.record.scroll, head.scroll);
          assert.equal(r.record.prev, prev, `${head.tenant}/${head.scroll} #${i} prev`);
          prev = r.leafHash;
        });
        assert.equal(head.lastLeafHash, prev);
      }
    });

    it('start the chain of another tenant\'s log at 64 zeros', async () => {
      const acme = await readLog(h.writ.store, 'acme', 'commerce');
      assert.equal(acme.length, 2);
      assert.equal(acme[0].record.prev, GENESIS);
      assert.equal(acme[0].record.actor, 'writ');
      assert.equal(acme[1].record.prev, acme[0].leafHash);
    });

    it('hash each leaf as SHA-256(0x00 ‖ leaf), recomputed independently', async () => {
      for (const head of await h.writ.store.logHeads()) {
        for (const r of await readLog(h.writ.store, head.tenant, head.scroll)) {
          assert.equal(r.leafHash, refLeafHash(r.leaf));
          assert.match(r.leafHash, /^[0-9a-f]{64}$/);
        }
      }
    });

    it('write each leaf as RFC 8785 JSON with exactly the fields of DESIGN §6', async () => {
      for (const head of await h.writ.store.logHeads()) {
        for (const r of await readLog(h.writ.store, head.tenant, head.scroll)) {
          assert.deepEqual(Object.keys(r.record).sort(), [...LEAF_FIELDS].sort());
          assert.equal(r.leaf.toString('utf8'), refJcs(r.record), 'the leaf bytes are canonical');
          assert.equal(r.record.v, 1);
          assert.ok(r.record.outcome === 'OK' || r.record.outcome === 'REJECTED');
          assert.equal(r.record.code === null, r.record.outcome === 'OK');
          assert.ok(!Number.isNaN(Date.parse(r.record.ts)));
        }
      }
    });

    it('set commandHash to SHA-256 of JCS(envelope without signature), recomputed independently', async () => {
      let checked = 0;
      for (const head of await h.writ.store.logHeads()) {
        for (const r of await readLog(h.writ.store, head.tenant, head.scroll)) {
          const body = await h.writ.store.readEnvelope(head.tenant, head.scroll, r.index);
          assert.ok(body, 'the envelope is stored beside the log');
          const envelope = JSON.parse(body) as Record<string, unknown>;
          assert.equal(r.record.commandHash, refCommandHash(envelope));
          const mine = sent.get(r.record.requestId);
          if (mine) {
            assert.equal(r.record.commandHash, refCommandHash(mine.envelope), 'the hash covers the envelope as the client signed it');
            assert.equal(mine.answer.commandHash, r.record.commandHash);
            checked++;
          }
        }
      }
      assert.equal(checked, sent.size);
    });

    it('match the receipt each answer carries, and hash the result of accepted commands', async () => {
      for (const { envelope, answer } of sent.values()) {
        const scroll = answer.receipt.log.split('/').pop();
        const [r] = await h.writ.store.readLedger(h.tenant, scroll, answer.receipt.index, 1);
        assert.equal(r.leafHash, answer.receipt.leafHash);
        const record = JSON.parse(r.leaf.toString('utf8'));
        assert.equal(record.requestId, envelope.requestId);
        assert.equal(record.action, envelope.action);
        if (answer.status === 'OK') {
          assert.equal(record.outcome, 'OK');
          assert.equal(record.resultHash, sha256(refJcs(answer.result)));
        } else {
          assert.equal(record.outcome, 'REJECTED');
          assert.equal(record.code, answer.code);
          assert.equal(record.resultHash, null);
        }
      }
    });

    it('name the target entity and the version written', async () => {
      const publish = [...sent.values()].find((s) => s.envelope.action === 'PublishPageVersion' && s.answer.status === 'OK')!;
      const [r] = await h.writ.store.readLedger(h.tenant, 'content', publish.answer.receipt.index, 1);
      const record = JSON.parse(r.leaf.toString('utf8'));
      assert.equal(record.target, 'page/chain');
      // Version 1 is the draft, 2 the submission, 3 the approval, 4 the publication.
      assert.equal(record.version, 4);
    });
  });

  describe('the outbox', () => {
    it('gains exactly one event per accepted command and none per refused one', async () => {
      const start = await h.writ.store.countOutbox();
      assert.equal((await h.post(h.sign('UpsertProduct', tea('ob-1')))).status, 200);
      assert.equal(await h.writ.store.countOutbox(), start + 1);
      assert.equal((await h.post(h.sign('UpsertProduct', tea('ob-1'), { expectedVersion: 0 }))).status, 409);
      assert.equal((await h.post(h.sign('UpsertProduct', { sku: 'ob-2' }))).status, 400);
      assert.equal(await h.writ.store.countOutbox(), start + 1);
      assert.equal((await h.post(h.sign('SaveDraftPage', { pageId: 'ob', blocks: [] }))).status, 200);
      assert.equal((await h.post(h.sign('SubmitForReview', { pageId: 'ob' }))).status, 200);
      assert.equal((await h.post(h.sign('ApproveContent', { pageId: 'ob' }))).status, 200);
      assert.equal((await h.post(h.sign('PublishPageVersion', { pageId: 'ob' }))).status, 200);
      assert.equal(await h.writ.store.countOutbox(), start + 5, 'a publish writing two entities is still one event');
    });

    it('does not gain an event when a command is replayed', async () => {
      const env = h.sign('UpsertProduct', tea('ob-3'));
      assert.equal((await h.post(env)).status, 200);
      const n = await h.writ.store.countOutbox();
      const again = await h.post(env);
      assert.equal(again.status, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(await h.writ.store.countOutbox(), n);
    });
  });

  describe('entity history', () => {
    it('answers point-in-time reads at any ledger index of the entity\'s scroll', async () => {
      const v1 = await h.post(h.sign('UpsertProduct', tea('pit', 100)));
      await h.post(h.sign('UpsertProduct', tea('pit-other', 1)));
      const v2 = await h.post(h.sign('UpsertProduct', tea('pit', 200)));
      const v3 = await h.post(h.sign('UpsertProduct', tea('pit', 300)));
      const [i1, i2, i3] = [v1, v2, v3].map((r) => r.body.receipt.index as number);
      assert.ok(i1 < i2 && i2 < i3);
      const at = async (index: number) => h.get(`/v1/entities/${h.tenant}/product/pit?at=${index}`);

      assert.equal((await at(i1 - 1)).status, 404, 'before its first version the entity did not exist');
      const a1 = await at(i1);
      assert.equal(a1.status, 200);
      assert.equal(a1.body.version, 1);
      assert.equal(a1.body.doc.price.amount, 100);
      assert.equal(a1.body.index, i1);
      assert.equal((await at(i2 - 1)).body.version, 1, 'an unrelated record in between does not change it');
      assert.equal((await at(i2)).body.doc.price.amount, 200);
      assert.equal((await at(i3)).body.version, 3);
      assert.equal((await at(i3 + 1000)).body.version, 3);
      const now = await h.get(`/v1/entities/${h.tenant}/product/pit`);
      assert.equal(now.body.version, 3);
      assert.equal(now.body.updatedBy, 'admin');
      assert.equal(now.body.scroll, 'commerce');
    });

    it('keeps the tombstone of a deleted entity in history, with earlier versions readable', async () => {
      const put = await h.post(h.sign('UpsertRoute', { path: '/hist', pageId: 'x' }));
      const del = await h.post(h.sign('DeleteRoute', { path: '/hist' }));
      const id = encodeURIComponent('/hist');
      const before = await h.get(`/v1/entities/${h.tenant}/route/${id}?at=${put.body.receipt.index}`);
      assert.equal(before.body.deleted, false);
      assert.deepEqual(before.body.doc, { path: '/hist', pageId: 'x' });
      const after = await h.get(`/v1/entities/${h.tenant}/route/${id}?at=${del.body.receipt.index}`);
      assert.equal(after.body.deleted, true);
      assert.equal(after.body.doc, null);
      assert.equal(after.body.version, 2);
    });
  });

  describe('group commit', () => {
    it('commits 200 concurrent different commands, batching several per transaction, with contiguous indexes', async () => {
      const startSize = (await h.writ.store.logHeads()).find((x) => x.tenant === h.tenant && x.scroll === 'commerce')!.size;
      const envelopes = Array.from({ length: 200 }, (_, i) => h.sign('UpsertProduct', tea(`gc-${i}`, i)));
      const stats = { ...h.writ.applier.stats };
      const answers = await Promise.all(envelopes.map((e) => h.post(e)));
      for (const a of answers) assert.equal(a.status, 200, a.raw);
      assert.ok(h.writ.applier.stats.largestBatch > 1, `largest batch ${h.writ.applier.stats.largestBatch}`);
      const batches = h.writ.applier.stats.batches - stats.batches;
      assert.equal(h.writ.applier.stats.commands - stats.commands, 200);
      assert.ok(batches < 200, `these 200 commands took ${batches} transactions, so some shared one`);

      const indexes = answers.map((a) => a.body.receipt.index as number).sort((x, y) => x - y);
      assert.deepEqual(indexes, Array.from({ length: 200 }, (_, i) => startSize + i));
      const log = await readLog(h.writ.store, h.tenant, 'commerce');
      assert.equal(log.length, startSize + 200);
      for (let i = 1; i < log.length; i++) assert.equal(log[i].record.prev, log[i - 1].leafHash);
      const byRequest = new Map(log.map((r) => [r.record.requestId as string, r]));
      for (const e of envelopes) assert.equal(byRequest.get(e.requestId)?.record.outcome, 'OK');

      const listed = await h.get(`/v1/entities/${h.tenant}/product?after=gc-&limit=1000`);
      assert.equal(listed.body.items.filter((x: { id: string }) => x.id.startsWith('gc-')).length, 200);
    });

    it('lets a refused command among concurrent ones leave the others applied', async () => {
      const envelopes = [
        h.sign('UpsertProduct', tea('iso-1')),
        h.sign('UpsertProduct', tea('iso-2'), { expectedVersion: 3 }),
        h.sign('UpsertProduct', tea('iso-3')),
        h.sign('DeleteRoute', { path: '/never-was' }),
        h.sign('UpsertProduct', tea('iso-4')),
      ];
      const answers = await Promise.all(envelopes.map((e) => h.post(e)));
      assert.deepEqual(
        answers.map((a) => a.body.code ?? a.body.status),
        ['OK', 'VERSION_CONFLICT', 'OK', 'NOT_FOUND', 'OK'],
      );
      for (const sku of ['iso-1', 'iso-3', 'iso-4']) assert.equal((await h.get(`/v1/entities/${h.tenant}/product/${sku}`)).status, 200);
      assert.equal((await h.get(`/v1/entities/${h.tenant}/product/iso-2`)).status, 404);
    });

    it('continues the chain across a restart', async () => {
      const before = await lastRecord(h.writ.store, h.tenant, 'commerce');
      await h.restart();
      const res = await h.post(h.sign('UpsertProduct', tea('after-restart')));
      assert.equal(res.status, 200, res.raw);
      const after = await lastRecord(h.writ.store, h.tenant, 'commerce');
      assert.equal(after?.index, before!.index + 1);
      assert.equal(after?.record.prev, before!.leafHash);
    });
  });
});
