import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/config.js';
import { parseVerifierKey, verifyTlogProof } from '../src/core/tlog/index.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { runWrit } from './support/cli.js';
import { rid, startHarness, type Harness } from './support/harness.js';

/**
 * Tamper tests (issue: verifiable ledger): each way of rewriting history is caught by `writ verify`
 * with the first bad index or a clear message. The database is changed behind writ's back, with
 * the SQLite driver directly, as an attacker with file access would.
 */
describe('writ verify', () => {
  let h: Harness;
  let db: string;
  let older: string;
  let pristine: string;
  let redactedRequestId: string;

  const product = (i: number) => ({ sku: `sku-${i}`, name: `Product ${i}`, price: { amount: i, currency: 'EUR' } });
  async function submit(from: number, n: number) {
    const ids: string[] = [];
    for (let i = from; i < from + n; i++) {
      const requestId = rid();
      const r = await h.post(h.sign('UpsertProduct', product(i), { requestId }));
      assert.equal(r.status, 200, r.raw);
      ids.push(requestId);
    }
    return ids;
  }
  const checkpoint = async () => assert.equal((await h.app.inject({ method: 'POST', url: `/v1/logs/${h.tenant}/commerce/checkpoint`, headers: { authorization: h.readAuth('POST', `/v1/logs/${h.tenant}/commerce/checkpoint`) } })).statusCode, 200);
  const restore = (file: string) => {
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    copyFileSync(file, db);
  };
  const tamper = (sql: (d: Database.Database) => void) => {
    const d = new Database(db);
    sql(d);
    d.close();
  };
  const verify = () => verifyHome(loadConfig(h.home), { progress: false });

  before(async () => {
    h = await startHarness({ ledger: { checkpointIntervalMs: 3_600_000 }, limits: { rate: 100_000 }, anchors: { git: { path: 'anchors/git' } } } as never);
    db = h.writ.config.store.path;
    await submit(0, 200);
    await checkpoint();
    await h.writ.close(); // flushes the anchors
    older = join(h.home, 'older.db');
    copyFileSync(db, older);
    await h.restart();
    const ids = await submit(200, 100);
    redactedRequestId = ids[7];
    await checkpoint();
    await h.writ.close();
    pristine = join(h.home, 'pristine.db');
    copyFileSync(db, pristine);
  });
  after(async () => {
    restore(pristine);
    await h.restart();
    await h.close();
  });

  it('passes on an untouched deployment, checking every record, checkpoint and anchor', async () => {
    restore(pristine);
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    const commerce = report.logs.find((l) => l.origin.endsWith('/commerce'))!;
    assert.equal(commerce.records, 300);
    assert.equal(commerce.checkpoints, 2);
    assert.equal(commerce.anchored, 4); // two checkpoints, each in git and in NDJSON
  });

  it("finds a record whose bytes were changed, at its index", async () => {
    restore(pristine);
    tamper((d) => {
      const row = d.prepare("SELECT leaf FROM ledger WHERE scroll = 'commerce' AND idx = 100").get() as { leaf: Buffer };
      d.prepare("UPDATE ledger SET leaf = ? WHERE scroll = 'commerce' AND idx = 100").run(Buffer.from(row.leaf.toString().replace('"OK"', '"KO"')));
    });
    const report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.problems[0].index, 100);
    assert.match(report.problems[0].message, /record 100/);
  });

  it('finds a changed record even when its stored leaf hash was changed to match', async () => {
    restore(pristine);
    tamper((d) => {
      const row = d.prepare("SELECT leaf FROM ledger WHERE scroll = 'commerce' AND idx = 42").get() as { leaf: Buffer };
      const leaf = Buffer.from(row.leaf.toString().replace('"UpsertProduct"', '"UpsertProducT"'));
      const hash = createHash('sha256').update(Buffer.from([0])).update(leaf).digest('hex');
      d.prepare("UPDATE ledger SET leaf = ?, leaf_hash = ? WHERE scroll = 'commerce' AND idx = 42").run(leaf, hash);
    });
    const report = await verify();
    assert.equal(report.problems[0].index, 42);
    assert.match(report.problems[0].message, /record 42/);
  });

  it('finds a deleted record', async () => {
    restore(pristine);
    tamper((d) => d.prepare("DELETE FROM ledger WHERE scroll = 'commerce' AND idx = 150").run());
    const report = await verify();
    assert.equal(report.problems[0].index, 150);
    assert.match(report.problems[0].message, /missing|deleted/);
  });

  it('finds reordered records', async () => {
    restore(pristine);
    tamper((d) => {
      const a = d.prepare("SELECT leaf, leaf_hash FROM ledger WHERE scroll = 'commerce' AND idx = 10").get() as { leaf: Buffer; leaf_hash: string };
      const b = d.prepare("SELECT leaf, leaf_hash FROM ledger WHERE scroll = 'commerce' AND idx = 11").get() as { leaf: Buffer; leaf_hash: string };
      const set = d.prepare("UPDATE ledger SET leaf = ?, leaf_hash = ? WHERE scroll = 'commerce' AND idx = ?");
      set.run(b.leaf, b.leaf_hash, 10);
      set.run(a.leaf, a.leaf_hash, 11);
    });
    const report = await verify();
    assert.equal(report.problems[0].index, 10);
    assert.match(report.problems[0].message, /reordered/);
  });

  it('finds a truncated log (the last records deleted with their checkpoint)', async () => {
    restore(pristine);
    tamper((d) => {
      d.prepare("DELETE FROM ledger WHERE scroll = 'commerce' AND idx >= 250").run();
      d.prepare("DELETE FROM checkpoints WHERE scroll = 'commerce' AND size > 250").run();
    });
    const report = await verify();
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => /anchored checkpoint 300 .* beyond the 250 records/.test(p.message)), JSON.stringify(report.problems));
  });

  it('finds a database rolled back to an older copy while git and NDJSON hold newer checkpoints', async () => {
    restore(older);
    const report = await verify();
    assert.equal(report.ok, false);
    const rollback = report.problems.filter((p) => /beyond the 200 records/.test(p.message));
    assert.ok(rollback.some((p) => p.message.includes('git refs/writ/checkpoints')), JSON.stringify(report.problems));
    assert.ok(rollback.some((p) => p.message.includes('ndjson')), JSON.stringify(report.problems));
    // writ itself refuses to sign on top of the rolled-back log and says why.
    await h.restart();
    const health = await h.get('/healthz');
    assert.ok(health.body.ledgerProblems.some((p: string) => /rolled back/.test(p)), JSON.stringify(health.body));
    await submit(300, 1);
    const cp = await h.app.inject({ method: 'POST', url: `/v1/logs/${h.tenant}/commerce/checkpoint`, headers: { authorization: h.readAuth('POST', `/v1/logs/${h.tenant}/commerce/checkpoint`) } });
    assert.equal(cp.statusCode, 500);
    assert.equal(JSON.parse(cp.body).code, 'LEDGER_INCONSISTENT');
    await h.writ.close();
  });

  it('finds rewritten tiles, and writ refuses to sign on top of them', async () => {
    restore(pristine);
    tamper((d) => {
      const row = d.prepare("SELECT nodes FROM tiles WHERE scroll = 'commerce' AND level = 0 AND n = 0").get() as { nodes: Buffer };
      // Flip a bit of leaf hash 3 and of every node above it inside the tile (a consistent forgery of the tile).
      for (const off of [3, 256 + 1, 384, 448, 480, 496, 504, 508].map((slot) => slot * 32)) row.nodes[off] ^= 1;
      d.prepare("UPDATE tiles SET nodes = ? WHERE scroll = 'commerce' AND level = 0 AND n = 0").run(row.nodes);
      // …and the tile's root where the level above holds it, so the forgery reaches the tree's root.
      const up = d.prepare("SELECT nodes FROM tiles WHERE scroll = 'commerce' AND level = 1 AND n = 0").get() as { nodes: Buffer };
      up.nodes[0] ^= 1;
      d.prepare("UPDATE tiles SET nodes = ? WHERE scroll = 'commerce' AND level = 1 AND n = 0").run(up.nodes);
    });
    const report = await verify();
    assert.equal(report.problems[0].index, 3, JSON.stringify(report.problems));
    await h.restart();
    const health = await h.get('/healthz');
    assert.ok(health.body.ledgerProblems.some((p: string) => /does not match checkpoint|another root/.test(p)), JSON.stringify(health.body.ledgerProblems));
    await h.writ.close();
  });

  it('finds a checkpoint with a bad signature', async () => {
    restore(pristine);
    tamper((d) => {
      const row = d.prepare("SELECT note FROM checkpoints WHERE scroll = 'commerce' AND size = 200").get() as { note: string };
      const lines = row.note.split('\n');
      const sig = lines[4].split(' ');
      const bytes = Buffer.from(sig[2], 'base64');
      bytes[20] ^= 0x40;
      lines[4] = `${sig[0]} ${sig[1]} ${bytes.toString('base64')}`;
      d.prepare("UPDATE checkpoints SET note = ? WHERE scroll = 'commerce' AND size = 200").run(lines.join('\n'));
    });
    const report = await verify();
    assert.ok(report.problems.some((p) => /checkpoint 200: its signature does not verify/.test(p.message)), JSON.stringify(report.problems));
  });

  it('exits non-zero from the command line and prints the first bad index', async () => {
    restore(pristine);
    tamper((d) => d.prepare("DELETE FROM ledger WHERE scroll = 'commerce' AND idx = 7").run());
    const run = await runWrit(['--home', h.home, 'verify', '--no-progress']);
    assert.equal(run.code, 61, run.stderr);
    assert.match(run.stderr, /verification FAILED: .*commerce at index 7/);
    restore(pristine);
    const ok = await runWrit(['--home', h.home, 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).ok, true);
  });

  it('redacts a stored command body while its receipt and the whole deployment still verify', async () => {
    restore(pristine);
    await h.restart();
    const status = await h.get(`/v1/commands/${h.tenant}/${redactedRequestId}`);
    const index = status.body.receipt.index as number;
    const before = await h.get(`/v1/ledger/${h.tenant}/commerce/records?from=${index}&limit=1&envelopes=true`);
    assert.match(before.body.records[0].envelope, /UpsertProduct/);
    const r = await h.post(h.sign('writ.Redact', { entry: `commerce/${index}`, reason: 'personal data' }));
    assert.equal(r.status, 200, r.raw);
    const again = await h.post(h.sign('writ.Redact', { entry: `commerce/${index}`, reason: 'twice' }));
    assert.equal(again.body.code, 'INVALID_STATE');
    const missing = await h.post(h.sign('writ.Redact', { entry: 'commerce/999999', reason: 'none' }));
    assert.equal(missing.body.code, 'NOT_FOUND');
    const afterwards = await h.get(`/v1/ledger/${h.tenant}/commerce/records?from=${index}&limit=1&envelopes=true`);
    assert.equal(afterwards.body.records[0].envelope, null);
    assert.equal(afterwards.body.records[0].redacted.reason, 'personal data');
    assert.equal(afterwards.body.records[0].leafHash, before.body.records[0].leafHash);
    const receipt = await h.app.inject({ method: 'GET', url: `/v1/receipts/${h.tenant}/${redactedRequestId}?wait=true`, headers: { authorization: h.readAuth('GET', `/v1/receipts/${h.tenant}/${redactedRequestId}?wait=true`) } });
    assert.equal(receipt.statusCode, 200, receipt.body);
    await verifyTlogProof(receipt.body, parseVerifierKey(h.writ.signer.vkey));
    await h.writ.close();
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });
});

