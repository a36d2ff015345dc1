import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend, sqliteOnly } from './support/backends.js';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config/config.js';
import { formatCheckpoint, MemoryTree, parseVerifierKey, pureHasher, verifyTlogProof } from '../src/core/tlog/index.js';
import { NoteSigner } from '../src/ledger/note-signer.js';
import { WitnessClient } from '../src/ledger/witness-client.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { buildWitnessServer, openWitness, type Witness } from '../src/witness/index.js';
import { rid, startHarness, type Harness } from './support/harness.js';

/** Two writ deployments, each a log and each the other's witness, over real HTTP. */
describeEachBackend('two writ deployments witnessing each other', (backend) => {
  const homes: Record<'a' | 'b', { h: Harness; witness: Witness; server: FastifyInstance; url: string }> = {} as never;

  const product = (i: number) => ({ sku: `w-${i}`, name: `Witnessed ${i}`, price: { amount: i, currency: 'EUR' } });
  async function submit(h: Harness, n: number): Promise<string[]> {
    const ids = [];
    for (let i = 0; i < n; i++) {
      const requestId = rid();
      const r = await h.post(h.sign('UpsertProduct', product(i), { requestId }));
      assert.equal(r.status, 200, r.raw);
      ids.push(requestId);
    }
    return ids;
  }
  const configure = (h: Harness, patch: Record<string, unknown>) => {
    const file = join(h.home, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }, null, 2));
  };

  before(async () => {
    const base = { ledger: { checkpointIntervalMs: 3_600_000, receiptWaitMs: 5000 }, limits: { rate: 100_000 } };
    const a = await startHarness({ ...base, ledger: { ...base.ledger, originPrefix: 'a.example' } } as never, { backend });
    const b = await startHarness({ ...base, ledger: { ...base.ledger, originPrefix: 'b.example' } } as never, { backend });
    // Each home's witness follows the other home's logs, trusting the other's log key.
    for (const [me, other] of [[a, b], [b, a]] as const) {
      configure(me, { witness: { logs: [{ originPrefix: other.writ.config.ledger.originPrefix, vkey: other.writ.signer.vkey }] } });
      const witness = await openWitness(loadConfig(me.home).witness);
      const server = buildWitnessServer(witness);
      const url = await server.listen({ host: '127.0.0.1', port: 0 });
      homes[me === a ? 'a' : 'b'] = { h: me, witness, server, url };
    }
    // Each home asks the other's witness, and a checkpoint counts once it has that cosignature.
    for (const [me, other] of [['a', 'b'], ['b', 'a']] as const) {
      const w = homes[other];
      configure(homes[me].h, { witnesses: { list: [{ name: w.witness.name, url: w.url, vkey: w.witness.vkey }], quorum: 1 } });
      await homes[me].h.restart();
    }
  });
  after(async () => {
    for (const x of Object.values(homes)) {
      await x.server.close();
      await x.h.close();
    }
  });

  it("gives each deployment receipts cosigned by the other's witness", async () => {
    for (const [me, other] of [['a', 'b'], ['b', 'a']] as const) {
      const { h } = homes[me];
      const [id] = await submit(h, 5);
      const res = await h.app.inject({ method: 'GET', url: `/v1/receipts/${h.tenant}/${id}?wait=true`, headers: { authorization: h.readAuth('GET', `/v1/receipts/${h.tenant}/${id}?wait=true`) } });
      assert.equal(res.statusCode, 200, res.body);
      const witnessKey = parseVerifierKey(homes[other].witness.vkey);
      const proved = await verifyTlogProof(res.body, parseVerifierKey(h.writ.signer.vkey), { witnesses: [witnessKey], witnessQuorum: 1 });
      assert.deepEqual(proved.cosigners, [homes[other].witness.name]);
      const logs = (await h.get('/v1/logs')).body;
      assert.equal(logs.witnesses[0].lastError, null);
      // /v1/logs names every key a verifier needs: the log's and each witness's.
      assert.equal(logs.witnesses[0].vkey, homes[other].witness.vkey);
      const fromLogs = await verifyTlogProof(res.body, parseVerifierKey(logs.verifierKey), { witnesses: logs.witnesses.map((w: any) => parseVerifierKey(w.vkey)), witnessQuorum: logs.witnessQuorum });
      assert.deepEqual(fromLogs.cosigners, [homes[other].witness.name]);
    }
  });

  it('keeps witnessing as the log grows (consistency proofs from the size the witness holds)', async () => {
    const { h } = homes.a;
    const [id] = (await submit(h, 300)).slice(-1);
    const res = await h.app.inject({ method: 'GET', url: `/v1/receipts/${h.tenant}/${id}?wait=true`, headers: { authorization: h.readAuth('GET', `/v1/receipts/${h.tenant}/${id}?wait=true`) } });
    assert.equal(res.statusCode, 200, res.body);
    const proved = await verifyTlogProof(res.body, parseVerifierKey(h.writ.signer.vkey), { witnesses: [parseVerifierKey(homes.b.witness.vkey)], witnessQuorum: 1 });
    assert.equal(proved.checkpoint.size, 305);
  });

  it("refuses a split view: a fork signed with the log's own key is not cosigned", async () => {
    const { h } = homes.a;
    const origin = `a.example/${h.tenant}/commerce`;
    // A different tree of the same origin, larger than what the witness holds, signed with A's real key.
    const fork = new MemoryTree(Array.from({ length: 400 }, (_, i) => pureHasher.leaf(Buffer.from(`forged ${i}`))));
    const signer = new NoteSigner('a.example', readFileSync(h.writ.config.ledger.logKeyFile, 'utf8'));
    const note = signer.signNote(formatCheckpoint({ origin, size: 400, root: fork.root(), extensions: [] }));
    const client = new WitnessClient({ name: homes.b.witness.name, url: homes.b.url, vkey: homes.b.witness.vkey, timeoutMs: 5000 });
    await assert.rejects(client.cosign(origin, note, 400, async (from) => fork.consistencyProof(from, 400)), (err: Error & { code?: string }) => {
      assert.match(err.message, /422|consisten/i);
      return true;
    });
    // The witness still holds the real log: the real next checkpoint is cosigned.
    const [id] = (await submit(h, 1)).slice(-1);
    const res = await h.app.inject({ method: 'GET', url: `/v1/receipts/${h.tenant}/${id}?wait=true`, headers: { authorization: h.readAuth('GET', `/v1/receipts/${h.tenant}/${id}?wait=true`) } });
    assert.equal(res.statusCode, 200, res.body);
    await verifyTlogProof(res.body, parseVerifierKey(h.writ.signer.vkey), { witnesses: [parseVerifierKey(homes.b.witness.vkey)], witnessQuorum: 1 });
  });

  it('lets writ verify catch a rolled-back database from what the witness saw, with no local anchor left', sqliteOnly(backend, 'rolls the SQLite file back'), async () => {
    const { h } = homes.b;
    await h.writ.close();
    const db = h.writ.config.store.path;
    const older = join(h.home, 'older.db');
    copyFileSync(db, older);
    await h.restart();
    const [id] = (await submit(h, 20)).slice(-1);
    assert.equal((await h.app.inject({ method: 'GET', url: `/v1/receipts/${h.tenant}/${id}?wait=true`, headers: { authorization: h.readAuth('GET', `/v1/receipts/${h.tenant}/${id}?wait=true`) } })).statusCode, 200);
    await h.writ.close();
    // The attacker restores the older database and removes the local NDJSON anchor too.
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    copyFileSync(older, db);
    rmSync(h.writ.config.anchors.ndjson!, { force: true });
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((p) => /witness a\.example\/witness-[0-9a-f]{8} .* has cosigned checkpoint 25, beyond the 5 records/.test(p.message)),
      JSON.stringify(report.problems),
    );
    await h.restart();
  });
});
