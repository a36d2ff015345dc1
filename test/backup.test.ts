import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/config.js';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { walk, type BackupManifest } from '../src/home/manifest.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { openSigner } from '../src/writ.js';
import { runWrit } from './support/cli.js';
import { readLedgerFromStore, ServerProcess, signedGet } from './support/robustness.js';
import { startWitness, type WitnessChild } from './support/witness-child.js';

/**
 * `writ backup` and `writ restore` through the real CLI, beside a real `writ serve` under load:
 * the backup neither takes the writer lock nor disturbs the server; a restored copy verifies and
 * holds every command acknowledged before the backup began; a damaged backup is refused naming the
 * file; and an old backup put back in place of a live home whose anchors went further is reported
 * by `writ verify` as a rollback.
 */

const CLIENTS = 6;

interface Acked {
  readonly requestId: string;
  readonly index: number;
  readonly leafHash: string;
}

describe('backup and restore of a running home', () => {
  let root: string;
  let home: string;
  let backup: string;
  let admin: Signer;
  let tenant: string;
  let server: ServerProcess;
  let witness: WitnessChild | undefined;
  /** Commands acknowledged (HTTP 200) before `writ backup` was started. */
  let ackedBefore: Acked[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'writ-backup-'));
    home = join(root, 'home');
    backup = join(root, 'backup');
    const init = await initHome(home, { port: 0 });
    tenant = init.tenant;
    admin = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
    const file = join(home, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    // A high rate limit (the load would be refused otherwise), frequent checkpoints, and both anchors.
    writeFileSync(file, JSON.stringify({ ...config, limits: { rate: 100_000_000, windowSeconds: 60 }, ledger: { ...(config.ledger as object), checkpointIntervalMs: 100 }, anchors: { git: { path: 'anchors/git' } } }, null, 2));
    server = await ServerProcess.start(home);
  });

  after(async () => {
    await server?.stop();
    await witness?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function submit(n: string): Promise<{ status: number; body: { receipt?: { index: number; leafHash: string } }; requestId: string }> {
    const { envelope } = signEnvelope({ action: 'UpsertProduct', payload: { sku: `sku-${n}`, name: `product ${n}`, price: { amount: 1, currency: 'EUR' } } }, admin, { tenant });
    const res = await fetch(`${server.url}/v1/commands`, { method: 'POST', body: JSON.stringify(envelope), headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as { receipt?: { index: number; leafHash: string } }, requestId: envelope.requestId };
  }

  it('copies the home while commands flow, and the restored home verifies and holds every command acknowledged before the backup', async (t) => {
    const acked: Acked[] = [];
    const refused: string[] = [];
    let running = true;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; running; n++) {
        const answer = await submit(`${c}-${n}`);
        if (answer.status === 200 && answer.body.receipt) acked.push({ requestId: answer.requestId, ...answer.body.receipt });
        else refused.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      }
    });
    for (let waited = 0; acked.length < 200 && waited < 30_000; waited += 20) await sleep(20);
    ackedBefore = [...acked];
    const during = acked.length;
    const run = await runWrit(['--home', home, 'backup', backup]);
    const afterBackup = acked.length;
    running = false;
    await Promise.all(clients);

    assert.equal(run.code, 0, `writ backup failed: ${run.stderr}`);
    t.diagnostic(`${during} commands acknowledged before the backup, ${afterBackup - during} while it ran`);
    assert.ok(afterBackup > during, 'no command was acknowledged while the backup ran: the test did not back up under load');
    assert.deepEqual(refused.slice(0, 5), [], 'the server refused commands while the backup ran');
    assert.ok(server.alive, 'the server stopped during the backup');

    // Every file 0600, every folder 0700: the backup holds the log key.
    for (const rel of walk(backup).files) assert.equal(statSync(join(backup, rel)).mode & 0o777, 0o600, `${rel} is not 0600`);
    const folders = (dir: string): string[] => [dir, ...readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => folders(join(dir, d.name)))];
    for (const dir of folders(backup)) assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is not 0700`);

    const manifest = JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')) as BackupManifest;
    const listed = manifest.files.map((f) => f.path);
    for (const must of ['config.json', 'keys/log.key', 'keys/admin.key', 'data/writ.db', 'anchors/checkpoints.ndjson', 'anchors/git/HEAD']) assert.ok(listed.includes(must), `the manifest does not list ${must}`);
    assert.ok(!listed.some((p) => p.startsWith('data/writ.db-')), 'the live database\'s WAL or lock files were copied');

    const restored = join(root, 'restored');
    const restore = await runWrit(['--home', restored, 'restore', backup]);
    assert.equal(restore.code, 0, `writ restore failed: ${restore.stderr}\n${restore.stdout}`);
    assert.ok(statSync(join(restored, 'policies')).isDirectory(), 'the empty policies folder was not restored');
    const verified = await runWrit(['--home', restored, 'verify']);
    assert.equal(verified.code, 0, `writ verify of the restored home failed: ${verified.stderr}`);
    const report = JSON.parse(verified.stdout) as { ok: boolean; logs: Array<{ origin: string; records: number; anchored: number }> };
    assert.ok(report.logs.some((l) => l.anchored > 0), 'no anchored checkpoint was checked against the restored database');

    const store = new SqliteStore({ path: join(restored, 'data', 'writ.db'), readOnly: true });
    try {
      const byRequest = new Map((await readLedgerFromStore(store)).filter((e) => e.record.outcome === 'OK').map((e) => [e.record.requestId, e]));
      for (const a of ackedBefore) {
        const e = byRequest.get(a.requestId);
        assert.ok(e, `acknowledged ${a.requestId} is missing from the restored home`);
        assert.equal(e.index, a.index);
        assert.equal(e.leafHash, a.leafHash);
      }
      // The manifest's log sizes are those of the copied database.
      const heads = new Map((await store.logHeads()).map((h) => [`writ.local/${h.tenant}/${h.scroll}`, h.size]));
      for (const l of manifest.logs) assert.equal(heads.get(l.origin), l.records, `${l.origin}: the manifest says ${l.records} records`);
    } finally {
      await store.close();
    }
  });

  it('refuses a tampered, truncated or extended backup, naming the file, and writes nothing', async () => {
    const cases: Array<{ what: string; damage: (dir: string) => void; names: RegExp }> = [
      {
        what: 'a changed byte in the database',
        damage: (dir) => {
          const file = join(dir, 'data', 'writ.db');
          const bytes = readFileSync(file);
          bytes[bytes.length - 100] ^= 0xff;
          writeFileSync(file, bytes);
        },
        names: /data\/writ\.db does not match its SHA-256/,
      },
      { what: 'a truncated anchor file', damage: (dir) => writeFileSync(join(dir, 'anchors', 'checkpoints.ndjson'), readFileSync(join(dir, 'anchors', 'checkpoints.ndjson')).subarray(0, 10)), names: /anchors\/checkpoints\.ndjson is 10 bytes/ },
      { what: 'a missing key', damage: (dir) => rmSync(join(dir, 'keys', 'log.key')), names: /keys\/log\.key is listed in the manifest but missing/ },
      { what: 'an added policy', damage: (dir) => writeFileSync(join(dir, 'policies', 'extra.cedar'), 'permit(principal, action, resource);'), names: /policies\/extra\.cedar is not listed in the manifest/ },
      { what: 'a symbolic link in place of a key', damage: (dir) => (rmSync(join(dir, 'keys', 'admin.key')), symlinkSync('/etc/hostname', join(dir, 'keys', 'admin.key'))), names: /keys\/admin\.key is not a regular file/ },
      {
        what: 'a manifest entry that climbs out of the home',
        damage: (dir) => {
          const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
          writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, files: [...m.files, { path: '../escaped', bytes: 0, sha256: m.files[0].sha256 }] }));
        },
        names: /a file entry is malformed: .*\.\.\/escaped/,
      },
    ];
    for (const c of cases) {
      const copy = join(root, `damaged-${cases.indexOf(c)}`);
      cpSync(backup, copy, { recursive: true });
      c.damage(copy);
      const target = join(root, `target-${cases.indexOf(c)}`);
      const run = await runWrit(['--home', target, 'restore', copy]);
      assert.equal(run.code, 60, `${c.what}: restore exited ${run.code}: ${run.stderr}`);
      assert.match(run.stderr, c.names, c.what);
      assert.ok(!existsSync(target), `${c.what}: the refused restore wrote ${target}`);
    }
  });

  it('refuses to back up into a folder that is not empty, or into the home', async () => {
    const full = await runWrit(['--home', home, 'backup', backup]);
    assert.equal(full.code, 2);
    assert.match(full.stderr, /not an empty folder/);
    const inHome = await runWrit(['--home', home, 'backup', join(home, 'backups', 'b1')]);
    assert.equal(inHome.code, 2);
    assert.match(inHome.stderr, /inside the home/);
    assert.ok(!existsSync(join(home, 'backups')));
  });

  it('refuses a home whose anchor file lies outside it, and leaves no backup folder', async () => {
    const other = join(root, 'other-home');
    await initHome(other, { port: 0 });
    const file = join(other, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), anchors: { ndjson: join(root, 'elsewhere.ndjson') } }));
    const dest = join(root, 'other-backup');
    const run = await runWrit(['--home', other, 'backup', dest]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /anchors\.ndjson .* is outside the home/);
    assert.ok(!existsSync(dest));
  });

  it('refuses to restore into a home that is not empty', async () => {
    const run = await runWrit(['--home', home, 'restore', backup]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /not an empty folder/);
  });

  it('reports an old backup put back in place of the live home as a rollback: against the newer anchors, and by the witness when the anchors are put back too', async () => {
    // A witness that follows the home's logs, asked to cosign every checkpoint from now on.
    witness = await startWitness(join(root, 'witness'), openSigner(loadConfig(home)).vkey);
    await server.stop();
    const file = join(home, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), witnesses: { list: [{ name: witness.name, url: witness.url, vkey: witness.vkey }], quorum: 1 } }, null, 2));
    server = await ServerProcess.start(home);

    // More commands; the last one's receipt waits for a checkpoint the witness cosigned; then every log is anchored.
    let last = '';
    for (let n = 0; n < 20; n++) {
      const answer = await submit(`late-${n}`);
      assert.equal(answer.status, 200);
      last = answer.requestId;
    }
    const receipt = await signedGet(server.url, `/v1/receipts/${tenant}/${last}?wait=true`, { ...admin, tenant });
    assert.equal(receipt.status, 200, await receipt.text());
    const anchored = await runWrit(['--home', home, '--url', server.url, 'anchor']);
    assert.equal(anchored.code, 0, anchored.stderr);
    await server.stop();
    const before = await runWrit(['--home', home, 'verify']);
    assert.equal(before.code, 0, `the live home does not verify before the rollback: ${before.stderr}`);

    // The old database in place of the live one; the live anchors stay.
    const old = join(root, 'old');
    assert.equal((await runWrit(['--home', old, 'restore', backup])).code, 0);
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(home, 'data', `writ.db${suffix}`), { force: true });
    cpSync(join(old, 'data', 'writ.db'), join(home, 'data', 'writ.db'));
    const run = await runWrit(['--home', home, 'verify']);
    assert.equal(run.code, 61, `verify exited ${run.code}: ${run.stderr}`);
    assert.match(run.stderr, /rolled back/);
    const problems = (JSON.parse(run.stdout) as { problems: Array<{ message: string }> }).problems.map((p) => p.message);
    for (const where of [/anchored checkpoint \d+ \(git /, /anchored checkpoint \d+ \(ndjson /, /witness .* has cosigned checkpoint/]) {
      assert.ok(problems.some((m) => where.test(m) && m.includes('rolled back')), `no rollback reported matching ${where}: ${JSON.stringify(problems)}`);
    }

    // The whole old backup put back, anchors included: the witness still knows the log went further.
    for (const rel of ['anchors/checkpoints.ndjson', 'anchors/git']) {
      rmSync(join(home, rel), { recursive: true, force: true });
      cpSync(join(old, rel), join(home, rel), { recursive: true });
    }
    const full = await runWrit(['--home', home, 'verify']);
    assert.equal(full.code, 61, `verify exited ${full.code}: ${full.stderr}`);
    assert.match(full.stderr, /witness .* has cosigned checkpoint \d+, beyond the \d+ records in the database: the log was truncated or the database rolled back/);
  });
});
