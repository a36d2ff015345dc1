import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend, dropDatabase, sqliteOnly } from './support/backends.js';
import { countRows } from './support/db-scan.js';
import Database from 'better-sqlite3';
import { CODES } from '../src/core/codes.js';
import { held, poster, type Post } from './support/approvals.js';
import { runWrit, startServer } from './support/cli.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { ManualClock, product } from './support/stage-helpers.js';

/** Commands of the mixed workload (the bench, bench/rebuild.ts, runs 10,000). */
const COMMANDS = 2000;

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

/**
 * `writ rebuild` (issue 12): the entity state is a projection of the ledger. Rebuilt from the
 * ledger after a few thousand mixed commands it equals the live state; a version edited in the
 * database behind writ's back is reported (entity, version, field) and, with --swap while no
 * server runs, repaired, after which `writ verify` passes again.
 */
describeEachBackend('writ rebuild', (backend) => {
  const clock = new ManualClock();
  let h: Harness;
  let home: string;
  let db: string;
  const writ = (...args: string[]) => runWrit(['--home', home, ...args]);
  const count = (sql: string) => {
    const d = new Database(db, { readonly: true });
    try {
      return (d.prepare(sql).get() as { n: number }).n;
    } finally {
      d.close();
    }
  };

  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false }, limits: { rate: 1_000_000 } } as never, { now: clock.now, backend });
    home = h.home;
    db = h.writ.config.store.path;
    const post: Post = poster(h, clock);
    const erin = await h.actor('erin', ['editor']);
    const paul = await h.actor('paul', ['publisher']);
    const step = (signer: typeof erin, action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      clock.advance(10);
      return post(signer, action, payload, { requestId: rid(), ...extra });
    };
    // A mix: new and updated products, refusals (a version conflict, a forbidden action), profile
    // merges, entitlements granted and revoked, pages through review, and held commands approved.
    for (let i = 0; i < COMMANDS; i++) {
      const kind = i % 10;
      if (kind < 4) await step(h.admin, 'UpsertProduct', product(`p${i % 97}`, i));
      else if (kind === 4) await step(h.admin, 'UpsertProduct', product(`p${i % 97}`, 1), { expectedVersion: 0 });
      else if (kind === 5) await step(erin, 'writ.SetFlag', { subject: 'tenant', flag: 'blocked' });
      else if (kind === 6) await step(h.admin, 'UpsertProfile', { actor: 'erin', displayName: `Erin ${i}`, ...(i % 20 === 6 ? { locale: null } : { locale: 'en' }) });
      else if (kind === 7) await step(h.admin, i % 20 === 7 ? 'GrantEntitlement' : 'RevokeEntitlement', { subject: 'erin', entitlement: 'beta' });
      else if (kind === 8) {
        const page = `page-${i}`;
        await step(erin, 'SaveDraftPage', { pageId: page, blocks: [{ type: 'text' }] });
        await step(erin, 'SubmitForReview', { pageId: page });
        await step(paul, 'ApproveContent', { pageId: page });
        if (i % 100 === 8) {
          clock.advance(10);
          const a = await held(h, clock, erin, 'PublishPageVersion', { pageId: page });
          await step(paul, 'writ.Approve', { approvalId: a.id, commandHash: a.hash });
        }
      } else await step(h.admin, 'UpsertProduct', { ...product(`q${i}`, i), name: `Q ${i}` });
    }
    await h.app.close();
    await h.writ.close();
  });
  after(async () => {
    rmSync(home, { recursive: true, force: true });
    if (backend === 'postgres') await dropDatabase(h.writ.config.store.url!);
  });

  it('rebuilds a state equal to the live one after thousands of mixed commands, and says how long it took', async () => {
    const run = await writ('rebuild');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = json(run.stdout);
    assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 5)));
    assert.deepEqual(report.differences, []);
    assert.ok(report.records > COMMANDS, `${report.records} records`);
    assert.equal(report.versions.rebuilt, report.versions.stored);
    assert.equal(report.versions.stored, await countRows(h, 'SELECT COUNT(*) AS n FROM entity_history'));
    assert.equal(report.swapped, false);
    assert.match(run.stderr, /rebuilt \d+ entity versions from \d+ records in \d+ ms; 0 differ/);
  });

  it('reports an edited entity version (entity, version, field) and changes nothing without --swap', sqliteOnly(backend, 'edits the state with the SQLite driver'), async () => {
    const d = new Database(db);
    d.prepare("UPDATE entity_history SET doc = json_set(doc, '$.price.currency', 'USD') WHERE type = 'product' AND id = 'p5' AND version = 2").run();
    // A version no command wrote: a forgery the rebuilt state does not hold.
    d.prepare("INSERT INTO entity_history SELECT tenant, type, id, version + 100, doc, deleted, updated_at, updated_by, scroll, idx FROM entity_history WHERE type = 'product' AND id = 'p6' AND version = 1").run();
    d.close();
    const run = await writ('rebuild');
    assert.equal(run.code, CODES.LEDGER_INCONSISTENT.exit, run.stderr);
    const report = json(run.stdout);
    assert.deepEqual(
      report.differences.map((x: any) => [x.type, x.id, x.version, x.kind, x.fields]).sort((a: any[], b: any[]) => String(a[1]).localeCompare(String(b[1]))),
      [
        ['product', 'p5', 2, 'changed', ['doc']],
        ['product', 'p6', 101, 'forged', []],
      ],
    );
    assert.equal(report.swapped, false);
    assert.match(run.stderr, /product\/p5 version 2 \(written by record commerce\/\d+\): its stored doc differs/);
    assert.match(run.stderr, /nothing was changed/);
    assert.equal(count("SELECT COUNT(*) AS n FROM entity_history WHERE id = 'p6' AND version = 101"), 1);
    const verify = await writ('verify', '--no-progress');
    assert.equal(verify.code, CODES.LEDGER_INCONSISTENT.exit, 'verify sees the edit too');
  });

  it('refuses --swap while a server runs on the home, naming it, and changes nothing', sqliteOnly(backend, '--swap replaces an SQLite home\'s state'), async () => {
    const server = startServer(home);
    try {
      await server.ready;
      const run = await writ('rebuild', '--swap');
      assert.equal(run.code, CODES.UNAVAILABLE.exit, run.stdout + run.stderr);
      assert.match(run.stderr, /needs the home to itself; nothing was changed/);
      assert.match(run.stderr, /writ serve/);
      assert.equal(run.stdout, '');
    } finally {
      await server.stop();
    }
    assert.equal(count("SELECT COUNT(*) AS n FROM entity_history WHERE id = 'p6' AND version = 101"), 1);
  });

  it('refuses --swap on PostgreSQL, where other processes may write, and changes nothing', { skip: backend === 'postgres' ? false : 'the PostgreSQL store only' }, async () => {
    const stored = await countRows(h, 'SELECT COUNT(*) AS n FROM entity_history');
    const run = await writ('rebuild', '--swap');
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /--swap replaces the state of an SQLite home only; nothing was changed/);
    assert.equal(run.stdout, '');
    assert.equal(await countRows(h, 'SELECT COUNT(*) AS n FROM entity_history'), stored);
  });

  it('swaps the rebuilt state in with --swap, after which writ verify passes and the product reads as the ledger says', sqliteOnly(backend, '--swap replaces an SQLite home\'s state'), async () => {
    const run = await writ('rebuild', '--swap');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = json(run.stdout);
    assert.equal(report.swapped, true);
    assert.equal(report.differences.length, 2);
    assert.match(run.stderr, /swapped in/);
    assert.equal(count("SELECT COUNT(*) AS n FROM entity_history WHERE id = 'p6' AND version = 101"), 0);
    assert.equal(count("SELECT COUNT(*) AS n FROM entity_history WHERE id = 'p5' AND version = 2 AND doc LIKE '%USD%'"), 0);
    const verify = await writ('verify', '--no-progress');
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(json(verify.stdout).ok, true);
    const again = json((await writ('rebuild')).stdout);
    assert.deepEqual(again.differences, []);
  });
});
