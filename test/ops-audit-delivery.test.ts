import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { leafOf } from '../src/ledger/leaf-of.js';
import { eventJson } from '../src/outbox/sink.js';
import { AuditMirror } from '../src/packs/ops/audit/mirror.js';
import { runWrit } from './support/cli.js';
import { clusterExecutor, opEnds, startOpsHome, submitOp, type OpsHome } from './support/ops.js';
import { commitsOf, enableAudit, entriesOf, entryOf, repoOf, waitForEntries } from './support/ops-audit.js';
import { Scrape } from './support/prometheus.js';

const scrape = async (o: OpsHome) => new Scrape(String((await o.h.get('/metrics')).body));

/** Everything stored in a repository: every object's bytes, reachable or not. */
function allObjects(gitDir: string): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, 'cat-file', '--batch-all-objects', '--batch'], { encoding: 'latin1', maxBuffer: 64 << 20 });
}

describe('the ops audit mirror off the path of ops', () => {
  describe('a folder writ cannot write', () => {
    let o: OpsHome;
    let folder: string;
    const logged: string[] = [];
    const streams = [process.stderr, process.stdout] as const;
    const writes = streams.map((st) => st.write);
    before(async () => {
      o = await startOpsHome('auto', (state) => ({ deploy: clusterExecutor(state) }));
      folder = join(o.h.home, 'audit-here');
      writeFileSync(folder, 'a file where the folder should be\n');
      await enableAudit(o.h, { folder });
      // writ's log lines: errors on stderr, the recovery on stdout (src/util/log.ts).
      streams.forEach((st, i) => {
        st.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
          logged.push(String(chunk));
          return writes[i].call(st, chunk as any, ...rest);
        }) as typeof st.write;
      });
    });
    after(async () => {
      streams.forEach((st, i) => (st.write = writes[i]));
      await o.h.close();
    });

    it('does not hold an op up: it runs and ends while the mirror fails, and the failure is logged once and counted at each retry', async () => {
      const sub = await submitOp(o.h, o.operator, { id: 'dep-1', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '1.0.0' } });
      assert.equal(sub.status, 200, sub.raw);
      assert.equal((await opEnds(o.h, 'dep-1')).status, 'succeeded');
      let s = await scrape(o);
      for (let i = 0; i < 400 && s.value('writ_ops_audit_failures_total') < 3; i++, s = await scrape(o)) await sleep(25);
      assert.ok(s.value('writ_ops_audit_failures_total') >= 3, 'retried');
      assert.ok(s.value('writ_ops_audit_pending') >= 1);
      assert.ok(s.value('writ_ops_audit_lag_seconds') > 0);
      assert.equal(s.value('writ_ops_audit_entries_total'), 0);
      const lines = logged.filter((l) => l.includes('the ops audit mirror cannot commit'));
      assert.equal(lines.length, 1, 'logged when it starts failing, not at every retry');
      assert.match(JSON.parse(lines[0]).err.message, /git|ENOTDIR|not a directory|mkdir/i);
    });

    it('catches up by itself once the folder is writable, and writ ops status shows where each mirror stands', async () => {
      rmSync(folder);
      mkdirSync(folder);
      const repo = join(folder, o.h.tenant, 'prod.git');
      await waitForEntries(repo, 'dep-1', ['SubmitOp', 'StartOpAttempt', 'RecordOpResult']);
      let s = await scrape(o);
      for (let i = 0; i < 200 && s.value('writ_ops_audit_pending') > 0; i++, s = await scrape(o)) await sleep(25);
      assert.deepEqual([s.value('writ_ops_audit_pending'), s.value('writ_ops_audit_lag_seconds'), s.value('writ_ops_audit_entries_total')], [0, 0, 3]);
      assert.ok(logged.some((l) => l.includes('the ops audit mirror commits again')));
      const status = await runWrit(['--home', o.h.home, '--url', await o.h.listen(), 'ops', 'status']);
      assert.equal(status.code, 0, status.stderr);
      const mirror = JSON.parse(status.stdout).auditMirror;
      assert.equal(mirror.enabled, true);
      assert.equal(mirror.mirrors.length, 1);
      const [m] = mirror.mirrors;
      assert.equal(m.workspace, 'prod');
      assert.equal(m.entries, 3);
      const result = entryOf(repo, entriesOf(repo).find((f) => f.endsWith('-RecordOpResult.json'))!);
      assert.equal(m.reached[result.log], result.index, 'it reached the result');
    });

    it('writes no entry twice when every event is delivered again (a crash between the commit and the outbox cursor)', async () => {
      const repo = join(folder, o.h.tenant, 'prod.git');
      const [entries, commits] = [entriesOf(repo), commitsOf(repo)];
      const store = o.h.writ.store;
      const mirror = new AuditMirror({ config: o.h.writ.config.ops.audit, reads: { get: (t, type, id) => store.getEntity(t, type, id) }, leaf: leafOf(store, o.h.writ.config.ledger.originPrefix), now: Date.now });
      const events = (await store.readStoredOutbox(0, 10_000)).filter((e) => e.target === 'op/dep-1');
      assert.equal(events.length, 3);
      // Twice over, and in one batch: the tree says what is there already.
      const attempts = await Promise.all([...events, ...events].map((e) => mirror.deliver(e, eventJson(e))));
      await mirror.close();
      assert.ok(attempts.every((a) => a.ok), JSON.stringify(attempts));
      assert.deepEqual([mirror.counts.entries, mirror.counts.duplicates], [0, 6]);
      assert.deepEqual([entriesOf(repo), commitsOf(repo)], [entries, commits]);
    });

    it('files nothing outside its folder for an event whose workspace or op id would leave it, and goes on', async () => {
      const store = o.h.writ.store;
      const mirror = new AuditMirror({ config: o.h.writ.config.ops.audit, reads: { get: (t, type, id) => store.getEntity(t, type, id) }, leaf: leafOf(store, o.h.writ.config.ledger.originPrefix), now: Date.now });
      const [real] = (await store.readStoredOutbox(0, 10_000)).filter((e) => e.target === 'op/dep-1');
      const doc = JSON.parse(real.data);
      const forged = [
        { ...real, id: 'forged-1', data: JSON.stringify({ ...doc, doc: { ...doc.doc, workspace: '../../../escaped' } }) },
        { ...real, id: 'forged-2', target: 'op/../../escaped' },
      ];
      for (const e of forged) assert.deepEqual(await mirror.deliver(e, eventJson(e)), { ok: true });
      await mirror.close();
      assert.equal(mirror.counts.skipped, 2);
      assert.deepEqual([mirror.counts.entries, mirror.counts.batches], [0, 0]);
      assert.ok(!existsSync(join(folder, '..', '..', 'escaped.git')) && !existsSync(join(o.h.home, 'escaped.git')));
      assert.deepEqual(readdirSync(folder), [o.h.tenant]);
      assert.deepEqual(readdirSync(join(folder, o.h.tenant)), ['prod.git']);
    });
  });

  describe('what an entry holds', () => {
    let o: OpsHome;
    const token = `tok-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
    const stdout = `STDOUT-TEXT-7f3a deployed with ${token}`;
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'writ-audit-secret-'));
      writeFileSync(join(dir, 'token'), token);
      const script = `let b='';process.stdin.on('data',(d)=>(b+=d)).on('end',()=>{process.stdout.write('STDOUT-TEXT-7f3a deployed with '+process.env.TOKEN);process.stderr.write('STDERR-TEXT-9c1e '+process.env.TOKEN);});`;
      o = await startOpsHome('auto', () => ({ deploy: { kind: 'command', command: process.execPath, args: ['-e', script], env: { TOKEN: { file: join(dir, 'token') } }, timeoutMs: 10_000 } }));
      await enableAudit(o.h);
    });
    after(() => o.h.close());

    it("keeps the outputs' digests only: no executor secret and no output text is anywhere in the repository", async () => {
      const sub = await submitOp(o.h, o.operator, { id: 'dep-1', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '1.0.0' } });
      assert.equal(sub.status, 200, sub.raw);
      assert.equal((await opEnds(o.h, 'dep-1')).status, 'succeeded');
      const repo = repoOf(o.h, 'prod');
      const files = await waitForEntries(repo, 'dep-1', ['SubmitOp', 'StartOpAttempt', 'RecordOpResult']);
      const result = entryOf(repo, files.find((f) => f.endsWith('-RecordOpResult.json'))!);
      assert.deepEqual(result.event.data.doc.results[0].stdout, { sha256: createHash('sha256').update(stdout).digest('hex'), size: Buffer.byteLength(stdout) });
      const everything = allObjects(repo);
      assert.ok(everything.includes('"RecordOpResult"'), 'the dump reads the entries');
      for (const secret of [token, 'STDOUT-TEXT-7f3a', 'STDERR-TEXT-9c1e']) assert.ok(!everything.includes(secret), `${secret} is not in the mirror`);
    });
  });
});
