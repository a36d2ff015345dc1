import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3 } from '../src/store/sqlite/schema.js';
import { emit, round } from './support.js';

const BATCH = 64;

/**
 * The cost of `PRAGMA secure_delete = ON` on the writer's statement mix (src/store/sqlite/writer.ts
 * keeps it on so that a redaction's erased bytes are not left in free page space): batches of
 * commands each inserting an entity version, a ledger record with its body, an outbox event, an
 * outcome and a nonce under random keys (page splits), with the nonces and outcomes pruned as they
 * age, WAL and synchronous=FULL as the store runs. Runs alternate off/on on fresh databases, since
 * this machine is shared and noisy; the median of each is reported.
 */
function run(secure: boolean, batches: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'writ-secure-delete-'));
  const db = new Database(join(dir, 'writ.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`secure_delete = ${secure ? 'ON' : 'OFF'}`);
    db.exec(SCHEMA_V1 + SCHEMA_V2);
    db.exec(SCHEMA_V3);
    const s = {
      entity: db.prepare('INSERT INTO entity_history (tenant, type, id, version, doc, deleted, updated_at, updated_by, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)'),
      ledger: db.prepare('INSERT INTO ledger (tenant, scroll, idx, leaf, leaf_hash, request_id, actor, command_hash, outcome, code, envelope) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
      outbox: db.prepare('INSERT INTO outbox (id, tenant, scroll, idx, action, target, version, type, data, ts) VALUES (?,?,?,?,?,?,?,?,?,?)'),
      outcome: db.prepare('INSERT OR IGNORE INTO outcomes (tenant, actor, request_id, command_hash, sig_digest, http_status, response, created_at, scroll, idx) VALUES (?,?,?,?,?,?,?,?,?,?)'),
      nonce: db.prepare('INSERT OR IGNORE INTO nonces (tenant, actor, nonce, command_hash, expires_at) VALUES (?,?,?,?,?)'),
      pruneNonces: db.prepare('DELETE FROM nonces WHERE expires_at < ?'),
      pruneOutcomes: db.prepare('DELETE FROM outcomes WHERE created_at < ?'),
    };
    const text = (n: number) => randomBytes(n).toString('base64');
    const commit = db.transaction((from: number) => {
      for (let i = from; i < from + BATCH; i++) {
        const doc = JSON.stringify({ sku: `p${i % 997}`, name: text(60), price: { amount: i, currency: 'EUR' }, note: text(120) });
        s.entity.run('default', 'product', `p${i}`, 1, doc, 0, new Date().toISOString(), 'admin', 'commerce', i);
        s.ledger.run('default', 'commerce', i, Buffer.from(text(300)), text(48), randomUUID(), 'admin', text(48), 'OK', null, text(450));
        s.outbox.run(randomUUID(), 'default', 'commerce', i, 'UpsertProduct', `product/p${i}`, 1, 'product.upserted', JSON.stringify({ doc }), new Date().toISOString());
        s.outcome.run('default', 'admin', randomUUID(), text(48), text(48), 200, text(300), i, 'commerce', i);
        s.nonce.run('default', 'admin', randomUUID(), text(48), i);
      }
      // Keep about the last 2,000 nonces and outcomes, as retention does.
      s.pruneNonces.run(from - 2000);
      s.pruneOutcomes.run(from - 2000);
    });
    const start = performance.now();
    for (let b = 0; b < batches; b++) commit(b * BATCH);
    return (batches * BATCH) / ((performance.now() - start) / 1000);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const batches = Number(process.argv[2] ?? 400);
const runs = Number(process.argv[3] ?? 5);
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < runs; r++) {
  off.push(run(false, batches));
  on.push(run(true, batches));
}
emit({ bench: 'secure-delete', batches, batch: BATCH, runs, off_cmds_per_s: round(median(off)), on_cmds_per_s: round(median(on)), on_vs_off: round(median(on) / median(off)) });
