import { strict as assert } from 'node:assert';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/config.js';
import type { Signer } from '../src/sdk/sign.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { held, poster, startAirlockHarness, type Post } from './support/approvals.js';
import { runWrit } from './support/cli.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { refHotp } from './support/reference.js';
import { assertError, assertOk, ManualClock, product } from './support/stage-helpers.js';

/**
 * `writ verify` beyond the log (issue 11): the stored command bodies, the entity state and history,
 * and the stored answers are each checked against the ledger, so an edit made in the SQLite file
 * behind writ's back (a price's currency, a document, a replayed answer) is reported, not served.
 */
describe('writ verify: bodies, state and answers', () => {
  const clock = new ManualClock();
  let h: Harness;
  let post: Post;
  let db: string;
  let pristine: string;
  /** requestId and index of the first upsert of product p1 (EUR). */
  let p1: { requestId: string; index: number };
  let conflict: string;
  let approvedRequestId: string;

  const restore = () => {
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    copyFileSync(pristine, db);
  };
  const tamper = (sql: (d: Database.Database) => void) => {
    restore();
    const d = new Database(db);
    sql(d);
    d.close();
  };
  const verify = () => verifyHome(loadConfig(h.home), { progress: false });
  const failsWith = async (pattern: RegExp) => {
    const report = await verify();
    assert.equal(report.ok, false, 'the tampering went unnoticed');
    assert.ok(report.problems.some((p) => pattern.test(p.message)), JSON.stringify(report.problems, null, 1));
    return report;
  };
  const step = async (signer: Signer, action: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    clock.advance(1000);
    return post(signer, action, payload, { requestId: rid(), ...extra });
  };

  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false }, limits: { rate: 100_000 } } as never, { now: clock.now });
    db = h.writ.config.store.path;
    post = poster(h, clock);
    const erin = await h.actor('erin', ['editor']);
    const paul = await h.actor('paul', ['publisher']);
    const olga = await h.actor('olga', ['breakglass']);
    const first = assertOk(await step(h.admin, 'UpsertProduct', product('p1', 100)));
    p1 = { requestId: first.requestId, index: first.receipt.index };
    assertOk(await step(h.admin, 'UpsertProduct', product('p2', 200)));
    assertOk(await step(h.admin, 'UpsertProduct', product('p1', 150)));
    const refused = await step(h.admin, 'UpsertProduct', product('p1', 1), { expectedVersion: 0 });
    assertError(refused, 'VERSION_CONFLICT');
    conflict = refused.body.requestId;
    assertError(await step(erin, 'writ.SetFlag', { subject: 'tenant', flag: 'blocked' }), 'FORBIDDEN');
    assertOk(await step(h.admin, 'UpsertProfile', { actor: 'erin', displayName: 'Erin', locale: 'en' }));
    assertOk(await step(h.admin, 'UpsertProfile', { actor: 'erin', locale: null, email: 'erin@example.com' }));
    assertOk(await step(h.admin, 'GrantEntitlement', { subject: 'erin', entitlement: 'beta' }));
    assertOk(await step(h.admin, 'RevokeEntitlement', { subject: 'erin', entitlement: 'beta' }));
    for (const page of ['approved', 'rejected', 'glass', 'late']) {
      assertOk(await step(erin, 'SaveDraftPage', { pageId: page, blocks: [{ type: 'text' }] }));
      assertOk(await step(erin, 'SubmitForReview', { pageId: page }));
      assertOk(await step(paul, 'ApproveContent', { pageId: page }));
    }
    clock.advance(1000);
    const a = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'approved' });
    approvedRequestId = a.envelope.requestId;
    assertOk(await step(paul, 'writ.Approve', { approvalId: a.id, commandHash: a.hash }));
    clock.advance(1000);
    const r = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'rejected' });
    assertOk(await step(paul, 'writ.Reject', { approvalId: r.id, commandHash: r.hash, reason: 'not yet' }));
    clock.advance(1000);
    const g = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'glass' });
    assertOk(await step(olga, 'writ.BreakGlass', { approvalId: g.id, commandHash: g.hash, reason: 'outage' }));
    // Decided after its TTL: refused, and expired right after by writ itself (a system command).
    clock.advance(1000);
    const late = await held(h, clock, erin, 'PublishPageVersion', { pageId: 'late' });
    clock.advance(7200_000);
    assertError(await step(paul, 'writ.Approve', { approvalId: late.id, commandHash: late.hash }), 'APPROVAL_EXPIRED');
    const secret = assertOk(await step(h.admin, 'UpsertProfile', { actor: 'paul', email: 'paul@example.com' }));
    assertOk(await step(h.admin, 'writ.Redact', { entry: `access/${secret.receipt.index}`, reason: 'personal data' }));
    assertOk(await step(h.admin, 'UpsertProfile', { actor: 'paul', displayName: 'Paul' }));
    await h.writ.close();
    pristine = join(h.home, 'pristine.db');
    copyFileSync(db, pristine);
  });
  after(async () => {
    if (pristine) {
      restore();
      await h.restart();
    }
    await h.close();
  });

  it('passes on an untouched home with upserts, merges, deletes, held, approved, rejected, expired and break-glass commands, a redaction and refusals', async () => {
    restore();
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    assert.equal(report.state!.bodies.redacted, 1);
    assert.ok(report.state!.bodies.checked >= report.records - 1, JSON.stringify(report.state));
    assert.ok(report.state!.versions.replayed > 30, JSON.stringify(report.state));
    assert.equal(report.state!.versions.unverifiable, 0, 'the profile version written by the redacted command is replayed from what stays of its body');
    assert.ok(report.state!.answers.checked > 20, JSON.stringify(report.state));
  });

  it('finds a stored command body that was edited (EUR to USD), naming its record', async () => {
    tamper((d) => {
      const row = d.prepare("SELECT envelope FROM ledger WHERE scroll = 'commerce' AND idx = ?").get(p1.index) as { envelope: string };
      d.prepare("UPDATE ledger SET envelope = ? WHERE scroll = 'commerce' AND idx = ?").run(row.envelope.replace('"EUR"', '"USD"'), p1.index);
    });
    const report = await failsWith(new RegExp(`commerce/${p1.index}.*body does not hash to its commandHash`));
    assert.ok(report.problems.some((p) => p.index === p1.index && p.message.includes(p1.requestId)));
  });

  it('finds a stored command body that is missing without a redaction', async () => {
    tamper((d) => d.prepare("UPDATE ledger SET envelope = NULL WHERE scroll = 'commerce' AND idx = ?").run(p1.index));
    await failsWith(new RegExp(`commerce/${p1.index}.*body is missing and no redaction`));
  });

  it('finds a redaction that no writ.Redact record made', async () => {
    tamper((d) => {
      d.prepare("UPDATE ledger SET envelope = NULL WHERE scroll = 'commerce' AND idx = ?").run(p1.index);
      d.prepare("INSERT INTO redactions (tenant, scroll, idx, redacted_at, redacted_by, reason) VALUES (?, 'commerce', ?, '2026-03-01T11:00:00.000Z', 'admin', 'forged')").run(h.tenant, p1.index);
    });
    await failsWith(new RegExp(`commerce/${p1.index}.*no writ.Redact record`));
  });

  it('finds an edited current entity document', async () => {
    tamper((d) => {
      const row = d.prepare("SELECT doc FROM entity_history WHERE type = 'product' AND id = 'p1' ORDER BY version DESC LIMIT 1").get() as { doc: string };
      d.prepare("UPDATE entity_history SET doc = ? WHERE type = 'product' AND id = 'p1' AND version = 2").run(row.doc.replace('"EUR"', '"USD"'));
    });
    await failsWith(/product\/p1 version 2.*differs/);
  });

  it('finds an edited older version in the history', async () => {
    tamper((d) => d.prepare("UPDATE entity_history SET updated_by = 'erin' WHERE type = 'product' AND id = 'p1' AND version = 1").run());
    await failsWith(/product\/p1 version 1.*differs/);
  });

  it('finds a history row that no record wrote, and one that was deleted', async () => {
    tamper((d) =>
      d
        .prepare("INSERT INTO entity_history SELECT tenant, type, id, version + 1, doc, deleted, updated_at, updated_by, scroll, idx FROM entity_history WHERE type = 'product' AND id = 'p2'")
        .run(),
    );
    await failsWith(/product\/p2 version 2.*no record wrote it/);
    tamper((d) => d.prepare("DELETE FROM entity_history WHERE type = 'page' AND id = 'approved' AND version = (SELECT MAX(version) FROM entity_history WHERE type = 'page' AND id = 'approved')").run());
    await failsWith(/page\/approved version \d+.*missing/);
  });

  it('finds an edited entity of a command that ran on approval', async () => {
    tamper((d) => d.prepare("UPDATE entity_history SET doc = json_set(doc, '$.status', 'draft') WHERE type = 'page' AND id = 'glass' AND version = (SELECT MAX(version) FROM entity_history WHERE type = 'page' AND id = 'glass')").run());
    await failsWith(/page\/glass version \d+.*differs/);
  });

  it('finds a stored answer whose result was edited', async () => {
    tamper((d) => {
      const row = d.prepare('SELECT response FROM outcomes WHERE request_id = ?').get(p1.requestId) as { response: string };
      const answer = JSON.parse(row.response);
      answer.result.created = false;
      d.prepare('UPDATE outcomes SET response = ? WHERE request_id = ?').run(JSON.stringify(answer), p1.requestId);
    });
    await failsWith(new RegExp(`${p1.requestId}.*result does not hash to the record's resultHash`));
  });

  it("finds a stored refusal turned into another code, and a held command's final answer turned back into its 202", async () => {
    tamper((d) => d.prepare("UPDATE outcomes SET response = replace(response, 'VERSION_CONFLICT', 'NOT_FOUND'), http_status = 404 WHERE request_id = ?").run(conflict));
    await failsWith(new RegExp(`${conflict}.*code NOT_FOUND.*VERSION_CONFLICT`));
    tamper((d) => {
      // The genuine 202 it was answered first, rebuilt from its PENDING record and approval entity.
      const pending = d.prepare("SELECT idx, leaf_hash, command_hash FROM ledger WHERE request_id = ? AND outcome = 'PENDING'").get(approvedRequestId) as { idx: number; leaf_hash: string; command_hash: string };
      const approval = JSON.parse((d.prepare("SELECT doc FROM entity_history WHERE type = 'approval' AND json_extract(doc, '$.requestId') = ? AND version = 1").get(approvedRequestId) as { doc: string }).doc);
      const answer = {
        status: 'PENDING_APPROVAL',
        requestId: approvedRequestId,
        commandHash: pending.command_hash,
        approval: { id: approval.id, requirement: approval.requirement, expiresAt: approval.expiresAt },
        receipt: { log: `writ.local/${h.tenant}/content`, index: pending.idx, leafHash: pending.leaf_hash },
      };
      d.prepare('UPDATE outcomes SET response = ?, http_status = 202, idx = ? WHERE request_id = ?').run(JSON.stringify(answer), pending.idx, approvedRequestId);
    });
    await failsWith(new RegExp(`${approvedRequestId}.*still the 202 of record content/\\d+, but the command ended`));
  });

  it('exits 61 from the command line, naming the first bad index', async () => {
    tamper((d) => {
      const row = d.prepare("SELECT envelope FROM ledger WHERE scroll = 'commerce' AND idx = ?").get(p1.index) as { envelope: string };
      d.prepare("UPDATE ledger SET envelope = ? WHERE scroll = 'commerce' AND idx = ?").run(row.envelope.replace('"EUR"', '"USD"'), p1.index);
    });
    const run = await runWrit(['--home', h.home, 'verify', '--no-progress']);
    assert.equal(run.code, 61, run.stderr);
    assert.match(run.stderr, new RegExp(`verification FAILED: .*commerce at index ${p1.index}`));
  });
});

describe('writ verify: a command landed through the airlock', () => {
  const KEY = Buffer.from('writ airlock verify key, 32 byte', 'ascii');
  // 5 s into a TOTP window, so that the windows computed here are the server's.
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const code = () => refHotp(KEY, Math.floor(clock.ms / 30_000));
  let h: Harness;

  before(async () => {
    h = await startAirlockHarness(clock, KEY);
    const post = poster(h, clock);
    const mia = await h.actor('mia', ['merch']);
    const paul = await h.actor('paul', ['publisher']);
    const cmd = await held(h, clock, mia, 'UpsertProduct', product('air-1'));
    assertOk(await post(paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }));
    clock.advance(30_000);
    assertOk(await post(paul, 'writ.Stage', { approvalId: cmd.id, code: code() }));
    clock.advance(150_000);
    assertOk(await post(paul, 'writ.Land', { hashPrefix: cmd.hash.slice(0, 12), code: code() }));
    assert.equal((await h.get(`/v1/entities/${h.tenant}/product/air-1`)).status, 200);
    await h.writ.close();
  });
  after(async () => {
    await h.restart();
    await h.close();
  });

  it('verifies, counting the staging and landing bodies as withheld and their versions as given, and replays the landed command', async () => {
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    assert.equal(report.state!.bodies.withheld, 2);
    assert.ok(report.state!.versions.unverifiable >= 2, JSON.stringify(report.state));
    const d = new Database(h.writ.config.store.path);
    d.prepare("UPDATE entity_history SET doc = replace(doc, 'EUR', 'USD') WHERE type = 'product' AND id = 'air-1'").run();
    d.close();
    const tampered = await verifyHome(loadConfig(h.home), { progress: false });
    assert.ok(tampered.problems.some((p) => /product\/air-1 version 1.*differs/.test(p.message)), JSON.stringify(tampered.problems, null, 1));
  });
});

describeEachBackend('writ verify: a held command of the writ log, approved in the same log', (backend) => {
  const clock = new ManualClock();
  let h: Harness;

  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } }, { now: clock.now, backend });
    writeFileSync(join(h.home, 'policies', 'flags.cedar'), '@approval("quorum=1 roles=publisher")\npermit (principal in Writ::Role::"merch", action == Writ::Action::"writ.SetFlag", resource);\n');
    await h.restart();
    const post = poster(h, clock);
    const mia = await h.actor('mia', ['merch']);
    const paul = await h.actor('paul', ['publisher']);
    const cmd = await held(h, clock, mia, 'writ.SetFlag', { subject: 'actor:mia', flag: 'readonly' });
    clock.advance(1000);
    assertOk(await post(paul, 'writ.Approve', { approvalId: cmd.id, commandHash: cmd.hash }));
    await h.writ.close();
  });
  after(async () => {
    await h.restart();
    await h.close();
  });

  it('replays the decision and the command it ran, one after the other in the writ log', async () => {
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    assert.equal(report.state!.versions.unverifiable, 0);
  });
});

describeEachBackend('writ verify: documents that carry the time of their command', (backend) => {
  let h: Harness;

  before(async () => {
    // A clock that moves on every reading: a document's time (redactedAt, revokedAt) must still be its record's.
    let t = Date.now();
    h = await startHarness({}, { now: () => t++, backend });
    const first = await h.post(h.sign('UpsertProduct', product('t1')));
    assert.equal(first.status, 200, first.raw);
    const redact = await h.post(h.sign('writ.Redact', { entry: `commerce/${first.body.receipt.index}`, reason: 'personal data' }));
    assert.equal(redact.status, 200, redact.raw);
    await h.actor('tim');
    const revoke = await h.post(h.sign('writ.RevokeKey', { keyId: 'tim#1', reason: 'left' }));
    assert.equal(revoke.status, 200, revoke.raw);
    await h.writ.close();
  });
  after(async () => {
    await h.restart();
    await h.close();
  });

  it('replays them with the time of their record', async () => {
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
  });
});
