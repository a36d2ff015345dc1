import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { approve, clusterExecutor, opEnds, startOpsHome, submitOp, type OpsHome } from './support/ops.js';
import { commitsOf, enableAudit, entriesOf, entryOf, git, repoOf, verifyAudit, waitForEntries } from './support/ops-audit.js';

/** A clone with a work tree, where someone may edit entries and commit (the mirror itself only grows). */
function cloneOf(repo: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'writ-audit-clone-')), 'prod');
  execFileSync('git', ['clone', '--quiet', repo, dir]);
  return dir;
}

function commitAll(dir: string, message: string): void {
  execFileSync('git', ['-C', dir, '-c', 'user.name=mallory', '-c', 'user.email=m@example.com', 'commit', '--quiet', '-am', message]);
}

const ACTIONS = (files: readonly string[]) => files.map((f) => f.replace(/^.*\/\d+-(.*)\.json$/, '$1')).sort();

describe('the ops audit mirror', () => {
  describe('a manual deploy, approved by two', () => {
    let o: OpsHome;
    let repo: string;
    let requestId: string;
    before(async () => {
      o = await startOpsHome('manual', (state) => ({ deploy: clusterExecutor(state) }));
      await enableAudit(o.h);
      repo = repoOf(o.h, 'prod');
      const sub = await submitOp(o.h, o.operator, { id: 'dep-1', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '2.0.0' } });
      assert.equal(sub.status, 202, sub.raw);
      requestId = sub.body.requestId;
      for (const a of o.approvers.slice(0, 2)) assert.equal((await approve(o.h, a, sub.body.approval.id, sub.body.commandHash)).status, 200);
      assert.equal((await opEnds(o.h, 'dep-1')).status, 'succeeded');
    });
    after(() => o.h.close());

    it('holds intent, both approvals, the start and the result of the op, each once, in the repository of its tenant and workspace', async () => {
      const files = await waitForEntries(repo, 'dep-1', ['SubmitOp', 'SubmitOp', 'writ.Approve', 'writ.Approve', 'StartOpAttempt', 'RecordOpResult']);
      assert.deepEqual(ACTIONS(files), ['RecordOpResult', 'StartOpAttempt', 'SubmitOp', 'SubmitOp', 'writ.Approve', 'writ.Approve']);
      assert.deepEqual(entriesOf(repo), files, 'nothing else is in the tree');
      const held = files.map((f) => entryOf(repo, f)).find((e) => e.event.type === 'approval.requested');
      assert.equal(held.event.data.requestId, requestId);
      assert.match(held.leafHash, /^[0-9a-f]{64}$/);
      assert.equal(held.log, `${o.h.writ.config.ledger.originPrefix}/${o.h.tenant}/ops`);
      for (const dir of [dirname(repo), dirname(dirname(repo))]) assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir} is the owner's only`);
    });

    it("commits as writ, on the one branch main, with each entry's requestId and ledger index as trailers", () => {
      const authors = new Set(git(repo, ['log', '--format=%an <%ae>|%cn <%ce>', 'refs/heads/main']).trim().split('\n'));
      assert.deepEqual([...authors], ['writ <writ@localhost>|writ <writ@localhost>']);
      assert.deepEqual(git(repo, ['for-each-ref', '--format=%(refname)']).trim().split('\n'), ['refs/heads/main']);
      const trailers = git(repo, ['log', '--format=%(trailers)', 'refs/heads/main']);
      assert.ok(trailers.includes(`Writ-Request-Id: ${requestId}`), trailers);
      for (const f of entriesOf(repo)) {
        const e = entryOf(repo, f);
        assert.ok(trailers.includes(`Writ-Entry: ${e.log} ${e.index}`), `${f} is named by a trailer`);
      }
    });

    it('verifies offline against the signed log with the verifier key', async () => {
      const run = await verifyAudit(o.h, repo);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.report.ok, true);
      assert.equal(run.report.entries, 6);
      assert.equal(run.report.verified, 6);
      assert.deepEqual([run.report.problems, run.report.missing], [[], []]);
    });

    it('proves entries into a signed checkpoint kept elsewhere, and names every one when that checkpoint was altered', async () => {
      const note = String((await o.h.get(`/v1/logs/${o.h.tenant}/ops/checkpoint`)).body);
      const dir = mkdtempSync(join(tmpdir(), 'writ-audit-cp-'));
      writeFileSync(join(dir, 'ops.cp'), note);
      const good = await verifyAudit(o.h, repo, ['--checkpoint', join(dir, 'ops.cp')]);
      assert.equal(good.code, 0, good.stderr);
      assert.equal(good.report.verified, 6);
      const lines = note.split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      writeFileSync(join(dir, 'forged.cp'), lines.join('\n'));
      const bad = await verifyAudit(o.h, repo, ['--checkpoint', join(dir, 'forged.cp')]);
      assert.equal(bad.code, 61);
      const opsEntries = entriesOf(repo).filter((f) => !f.includes('writ.'));
      assert.deepEqual(bad.report.problems.map((p: any) => p.path).sort(), opsEntries);
      assert.match(bad.report.problems[0].message, /cannot prove record/);
    });

    it("refuses every entry with a verifier key that is not the log's", async () => {
      const other = (await startOpsHome('manual', () => ({}))).h;
      const vkey = other.writ.signer.vkey;
      await other.close();
      const run = await verifyAudit(o.h, repo, ['--vkey', vkey]);
      assert.equal(run.code, 61, run.stderr);
      assert.equal(run.report.problems.length, 6);
      assert.match(run.report.problems[0].message, /cannot prove record/);
    });

    it('names an entry whose result was edited in a clone, and one whose leaf hash was', async () => {
      const clone = cloneOf(repo);
      const [result] = entriesOf(repo).filter((f) => f.endsWith('-RecordOpResult.json'));
      const [start] = entriesOf(repo).filter((f) => f.endsWith('-StartOpAttempt.json'));
      const r = JSON.parse(readFileSync(join(clone, result), 'utf8'));
      r.event.data.doc.results[0].exitStatus = 1;
      r.event.data.doc.status = 'failed';
      writeFileSync(join(clone, result), JSON.stringify(r, null, 2));
      const s = JSON.parse(readFileSync(join(clone, start), 'utf8'));
      s.leafHash = createHash('sha256').update('forged').digest('hex');
      writeFileSync(join(clone, start), JSON.stringify(s, null, 2));
      commitAll(clone, 'edit');
      const run = await verifyAudit(o.h, clone, ['--tenant', o.h.tenant, '--workspace', 'prod']);
      assert.equal(run.code, 61);
      assert.deepEqual(run.report.problems.map((p: any) => p.path).sort(), [result, start].sort());
      assert.match(run.stderr, new RegExp(`${result}.*document`));
      assert.match(run.stderr, new RegExp(`${start}.*leaf hash`));
    });

    it('names an invented entry: a record the ledger does not have, or another record under this name', async () => {
      const clone = cloneOf(repo);
      const [start] = entriesOf(repo).filter((f) => f.endsWith('-StartOpAttempt.json'));
      const e = JSON.parse(readFileSync(join(clone, start), 'utf8'));
      const beyond = { ...e, index: 9999, event: { ...e.event, index: 9999 } };
      writeFileSync(join(clone, 'ops', 'dep-1', '9999-StartOpAttempt.json'), JSON.stringify(beyond));
      const [submit] = entriesOf(repo).filter((f) => f.endsWith('-SubmitOp.json')).map((f) => entryOf(repo, f)).filter((x) => x.event.type !== 'approval.requested');
      const swapped = { ...e, index: submit.index, leafHash: submit.leafHash, event: { ...e.event, index: submit.index } };
      writeFileSync(join(clone, 'ops', 'dep-1', `${submit.index}-StartOpAttempt.json`), JSON.stringify(swapped));
      execFileSync('git', ['-C', clone, 'add', '.']);
      commitAll(clone, 'invent');
      const run = await verifyAudit(o.h, clone, ['--tenant', o.h.tenant, '--workspace', 'prod']);
      assert.equal(run.code, 61);
      const problems = Object.fromEntries(run.report.problems.map((p: any) => [p.path, p.message]));
      assert.match(problems['ops/dep-1/9999-StartOpAttempt.json'], /has no record 9999/);
      assert.match(problems[`ops/dep-1/${submit.index}-StartOpAttempt.json`], /differs from record/);
    });

    it('reports deleted entries as missing where the ledger has them, the last one of its log too', async () => {
      const clone = cloneOf(repo);
      const byIndex = entriesOf(repo).filter((f) => f.includes('-SubmitOp.') || f.includes('-RecordOpResult.')).map((f) => entryOf(repo, f));
      for (const e of byIndex.filter((x) => x.event.action === 'RecordOpResult' || x.event.type === 'approval.requested')) {
        execFileSync('git', ['-C', clone, 'rm', '--quiet', `ops/dep-1/${e.index}-${e.event.action}.json`]);
      }
      commitAll(clone, 'delete');
      const run = await verifyAudit(o.h, clone, ['--tenant', o.h.tenant, '--workspace', 'prod']);
      assert.equal(run.code, 61);
      assert.deepEqual(run.report.problems, []);
      assert.deepEqual(run.report.missing.map((m: any) => m.action).sort(), ['RecordOpResult', 'SubmitOp']);
      assert.match(run.stderr, /record \d+ of .*\/ops \(RecordOpResult of op dep-1\) is in the ledger, not in the mirror/);
    });

    it('goes on where it stopped after a restart: only the new op is committed, in one more commit', async () => {
      const [entries, commits] = [entriesOf(repo).length, commitsOf(repo)];
      await o.h.restart();
      const sub = await submitOp(o.h, o.operator, { id: 'dep-2', kind: 'deploy', workspace: 'prod', resource: 'api', parameters: { version: '2.1.0' } });
      assert.equal(sub.status, 202);
      await waitForEntries(repo, 'dep-2', ['SubmitOp']);
      assert.deepEqual([entriesOf(repo).length, commitsOf(repo)], [entries + 1, commits + 1]);
    });
  });
});
