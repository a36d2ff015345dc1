import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend, sqliteOnly } from './support/backends.js';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/config.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { runWrit } from './support/cli.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertOk } from './support/stage-helpers.js';
import { fileBytes, storedRows, tamperedVerify } from './support/db-scan.js';

const ERASED = '[redacted]';
const TITLE = 'Layoffs in the Lisbon office';
const BLOCK = 'Names: ana.quiet@example.com';
const RULE = 'Secret discount for bigcustomer-gmbh';
const NOTE = 'card holder confided: xq7-private-note';
const OBJECTIVE = 'interview witness zed.hidden@example.com';
const SECRETS = [TITLE, BLOCK, RULE, NOTE, OBJECTIVE];

/**
 * writ.Redact of commands run by code handlers (issue 12): SaveDraftPage in the content pack and
 * commerce actions. The handler is re-run on the redacted body, so the versions it wrote — and the
 * later versions that carried its values (a second draft keeping the title, the review, the
 * published page and its version snapshot) — are erased and `writ verify` recomputes them exactly.
 * A handler that checks an erased value (a dispute's evidence hash) cannot be re-run: its versions
 * are erased in place and verify says how many it takes as erased.
 */
describeEachBackend('writ.Redact erases every copy of a code-handler command', (backend) => {
  let h: Harness;
  let db: string;
  const entry: Record<string, string> = {};

  before(async () => {
    h = await startHarness({}, { backend });
    db = h.writ.config.store.path;
    const publisher = await h.actor('pia', ['publisher']);
    const draft = assertOk(await h.post(h.sign('SaveDraftPage', { pageId: 'memo', title: TITLE, locale: 'en', blocks: [{ type: 'text', text: BLOCK }] }, { requestId: rid() })));
    entry.draft = `content/${draft.receipt.index}`;
    // A second draft without a title keeps the first one's: the handler carries the value forward.
    assertOk(await h.post(h.sign('SaveDraftPage', { pageId: 'memo', blocks: [{ type: 'text', text: 'rewritten' }] }, { requestId: rid() })));
    assertOk(await h.post(h.sign('SubmitForReview', { pageId: 'memo' }, { requestId: rid() })));
    assertOk(await h.post(h.sign('ApproveContent', { pageId: 'memo' }, { requestId: rid() }, publisher)));
    assertOk(await h.post(h.sign('PublishPageVersion', { pageId: 'memo' }, { requestId: rid() }, publisher)));
    assertOk(await h.post(h.sign('SaveDraftPage', { pageId: 'other', title: 'Kept title', blocks: [] }, { requestId: rid() })));
    const rule = assertOk(await h.post(h.sign('UpsertPriceRule', { ruleId: 'vip', name: RULE, percentOff: 15, skus: ['*'] }, { requestId: rid() })));
    entry.rule = `commerce/${rule.receipt.index}`;
    const hash = 'a'.repeat(64);
    const evidence = assertOk(await h.post(h.sign('AddDisputeEvidence', { disputeId: 'd1', evidence: { type: 'correspondence', hash, hashAlgo: 'sha256', note: NOTE } }, { requestId: rid() })));
    entry.evidence = `commerce/${evidence.receipt.index}`;
    assertOk(await h.post(h.sign('AddDisputeEvidence', { disputeId: 'd1', evidence: { type: 'receipt', url: 'https://pay.example/r/1' } }, { requestId: rid() })));
    const run = assertOk(await h.post(h.sign('StartRun', { id: 'r1', domain: 'ops', title: 'Incident review', severity: 'low', stages: [{ id: 's1', skill: 'interview', workflow: 'w', role: 'lead', objective: OBJECTIVE }] }, { requestId: rid() })));
    entry.run = `runs-ops/${run.receipt.index}`;
    assertOk(await h.post(h.sign('CompleteStage', { runId: 'r1', stageId: 's1', outcome: 'passed', outputs: [] }, { requestId: rid() })));
    for (const e of [entry.draft, entry.rule, entry.evidence, entry.run]) assertOk(await h.post(h.sign('writ.Redact', { entry: e, reason: 'personal data' }, { requestId: rid() })));
  });
  after(() => h.close());

  it('erases the values from the page versions the draft wrote and from every later version and copy that carried them', async () => {
    const versions = (await h.get(`/v1/entities/${h.tenant}/page/memo/history`)).body.versions as any[];
    assert.equal(versions.length, 5);
    assert.deepEqual(versions[0].doc.draft, { title: ERASED, locale: ERASED, blocks: [{ type: ERASED, text: ERASED }], rev: 1 });
    assert.equal(versions[1].doc.draft.title, ERASED, 'the second draft kept the title');
    assert.deepEqual(versions[1].doc.draft.blocks, [{ type: 'text', text: 'rewritten' }], 'what the second draft wrote itself stays');
    assert.equal(versions[4].doc.title, ERASED, 'the published page took the draft title');
    assert.equal(versions[4].doc.status, 'published');
    const snapshot = (await h.get(`/v1/entities/${h.tenant}/page-version/memo@1`)).body.doc;
    assert.equal(snapshot.title, ERASED, 'the published version snapshot');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/page/other`)).body.doc.title, 'Kept title', 'other pages are untouched');
  });

  it('erases a commerce command re-run on its redacted body, and commerce and runs commands that cannot be re-run, in place', async () => {
    const rule = (await h.get(`/v1/entities/${h.tenant}/price-rule/vip`)).body.doc;
    assert.deepEqual(rule, { ruleId: 'vip', name: ERASED, percentOff: ERASED, skus: [ERASED] });
    const dispute = (await h.get(`/v1/entities/${h.tenant}/dispute/d1`)).body.doc;
    assert.equal(dispute.evidence[0].note, ERASED);
    assert.equal(dispute.evidence[0].hash, ERASED);
    assert.equal(dispute.evidence[1].url, 'https://pay.example/r/1', 'the later piece stays');
    const versions = (await h.get(`/v1/entities/${h.tenant}/run/r1/history`)).body.versions as any[];
    assert.equal(versions.length, 2);
    for (const v of versions) assert.equal(v.doc.contract.stages[0].objective, ERASED, 'the run contract, and the stage completion that carried it');
    assert.equal(versions[1].doc.stages[0].outcome, 'passed');
  });

  it('leaves no copy of any value in any row of any table, nor in the database or WAL files', async () => {
    // The files' bytes are SQLite's; PostgreSQL keeps old row versions until VACUUM (docs/deploy.md, Limits).
    const files = backend === 'sqlite';
    const live = files ? fileBytes(db) : '';
    for (const secret of SECRETS) assert.ok(!live.includes(secret), `the database or its WAL holds ${secret} while writ runs`);
    await h.writ.close();
    const rows = await storedRows(h);
    for (const secret of SECRETS) assert.ok(!rows.includes(secret), `a row holds ${secret}`);
    assert.ok(rows.includes('Kept title'), 'the search finds a value that was not redacted');
    const bytes = files ? fileBytes(db) : '';
    for (const secret of SECRETS) assert.ok(!bytes.includes(secret), `the database file holds ${secret}`);
    await h.restart();
  });

  it('passes writ verify, saying how many versions it takes as erased and why, and writ rebuild agrees with the live state', async () => {
    await h.writ.close();
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    // The first dispute version was erased in place; the second piece's handler re-runs on it exactly.
    // StartRun cannot re-run (its erased stage ids collide), nor can the stage completion after it.
    assert.equal(report.state!.versions.erased, 3);
    const by = report.state!.versions.erasedBy;
    assert.deepEqual(by.slice(0, 2), [`${h.tenant} ${entry.evidence}`, `${h.tenant} ${entry.run}`]);
    assert.equal(by.length, 3);
    const cli = await runWrit(['--home', h.home, 'verify', '--no-progress']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /redacted, not replayable: 3 versions taken as erased/);
    const run = await runWrit(['--home', h.home, 'rebuild']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).differences, []);
    await h.restart();
  });

  describe('writ verify tells the redaction of a code-handler command from tampering', sqliteOnly(backend, 'tampers with the SQLite driver'), () => {
    /** Runs `sql` on the closed store, verifies, undoes it; returns the problems. */
    const tampered = (sql: string, undo: string, ...params: unknown[]) => tamperedVerify(h, sql, undo, ...params);
    const page = (v: number) => `type = 'page' AND id = 'memo' AND version = ${v}`;

    it('reports a changed field beside an erased one, in the version SaveDraftPage wrote', async () => {
      const problems = await tampered(`UPDATE entity_history SET doc = json_set(doc, '$.draft.rev', 7) WHERE ${page(1)}`, `UPDATE entity_history SET doc = json_set(doc, '$.draft.rev', 1) WHERE ${page(1)}`);
      assert.ok(problems.some((m) => /page\/memo version 1 .*stored doc differs/.test(m)), JSON.stringify(problems));
    });

    it('reports an erased value put back, in a version carried forward and in a commerce version', async () => {
      const carried = await tampered(`UPDATE entity_history SET doc = json_set(doc, '$.draft.title', ?) WHERE ${page(2)}`, `UPDATE entity_history SET doc = json_set(doc, '$.draft.title', '${ERASED}') WHERE ? IS NOT NULL AND ${page(2)}`, TITLE);
      assert.ok(carried.some((m) => /page\/memo version 2 .*stored doc differs/.test(m)), JSON.stringify(carried));
      const rule = await tampered(`UPDATE entity_history SET doc = json_set(doc, '$.name', ?) WHERE type = 'price-rule' AND id = 'vip'`, `UPDATE entity_history SET doc = json_set(doc, '$.name', '${ERASED}') WHERE ? IS NOT NULL AND type = 'price-rule' AND id = 'vip'`, RULE);
      assert.ok(rule.some((m) => /price-rule\/vip version 1 .*stored doc differs/.test(m)), JSON.stringify(rule));
    });

    it('reports a field changed in a later version of an entity erased in place, where no marker is', async () => {
      const later = `type = 'dispute' AND id = 'd1' AND version = 2`;
      const problems = await tampered(`UPDATE entity_history SET doc = json_set(doc, '$.evidence[1].url', 'https://evil.example/') WHERE ${later}`, `UPDATE entity_history SET doc = json_set(doc, '$.evidence[1].url', 'https://pay.example/r/1') WHERE ${later}`);
      assert.ok(problems.some((m) => /dispute\/d1 version 2 .*stored doc differs/.test(m)), JSON.stringify(problems));
    });

    it('reports a redacted body switched to "not replayable" to have its versions taken as erased', async () => {
      const [scroll, index] = entry.rule.split('/');
      const problems = await tampered(
        `UPDATE ledger SET envelope = json_set(envelope, '$.nonce', '[redacted; not replayable]') WHERE scroll = ? AND idx = ?`,
        `UPDATE ledger SET envelope = json_set(envelope, '$.nonce', '${ERASED}') WHERE scroll = ? AND idx = ?`,
        scroll,
        Number(index),
      );
      assert.ok(problems.some((m) => /re-runs on its redacted body/.test(m)), JSON.stringify(problems));
    });
  });
});
