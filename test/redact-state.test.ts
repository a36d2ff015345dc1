import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend, sqliteOnly } from './support/backends.js';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/config.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { runWrit } from './support/cli.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertOk } from './support/stage-helpers.js';
import { fileBytes, storedRows, tamperedVerify } from './support/db-scan.js';

const EMAIL = 'paul.private@example.com';
const HELD_EMAIL = 'vera.secret@example.com';
const PENDING_EMAIL = 'xena.secret@example.com';
const ERASED = '[redacted]';

/**
 * writ.Redact erases every copy of a command's values that writ holds (issue 12): its body, the
 * entity versions it wrote and the later versions that carried its values forward (a merge keeping
 * a field), the current state, outbox events and answers; for a held command also its approval's
 * envelope copy, the body of the record that ended it and what it wrote when it ran. The ledger
 * replay runs what stays of the body, so `writ verify` and `writ rebuild` still agree with the store.
 */
describeEachBackend('writ.Redact erases every copy of the values writ holds', (backend) => {
  let h: Harness;
  let db: string;
  const entry: Record<string, string> = {};

  before(async () => {
    h = await startHarness({ approvals: { sweepEnabled: false } } as never, { backend });
    writeFileSync(join(h.home, 'policies', 'hr.cedar'), '@approval("quorum=1 roles=publisher")\npermit (principal in Writ::Role::"hr", action == Writ::Action::"UpsertProfile", resource);\n');
    await h.restart();
    db = h.writ.config.store.path;
    const hr = await h.actor('hana', ['hr']);
    const publisher = await h.actor('pia', ['publisher']);
    assertOk(await h.post(h.sign('UpsertProfile', { actor: 'paul', displayName: 'Paul' }, { requestId: rid() })));
    const secret = assertOk(await h.post(h.sign('UpsertProfile', { actor: 'paul', email: EMAIL, locale: 'en' }, { requestId: rid() })));
    entry.plain = `access/${secret.receipt.index}`;
    entry.plainRequest = secret.requestId;
    // A later merge keeps the email: its version carries the value forward.
    assertOk(await h.post(h.sign('UpsertProfile', { actor: 'paul', displayName: 'Paul P.' }, { requestId: rid() })));
    assertOk(await h.post(h.sign('UpsertProfile', { actor: 'olga', email: 'olga@example.com' }, { requestId: rid() })));
    // A held command with a secret value, approved: it ran when the approval reached its quorum.
    const pending = await h.post(h.sign('UpsertProfile', { actor: 'vera', email: HELD_EMAIL }, { requestId: rid() }, hr));
    assert.equal(pending.status, 202, pending.raw);
    entry.held = `access/${pending.body.receipt.index}`;
    entry.approval = pending.body.approval.id;
    assertOk(await h.post(h.sign('writ.Approve', { approvalId: entry.approval, commandHash: pending.body.commandHash }, { requestId: rid() }, publisher)));
    // As `writ redact <tenant> <requestId>` does: the entry its answer's receipt names, here the record that ended the held command.
    const final = (await h.get(`/v1/commands/${h.tenant}/${pending.body.requestId}`)).body.receipt;
    assert.notEqual(final.index, pending.body.receipt.index);
    // Another held command, redacted by its PENDING record's entry.
    const other = await h.post(h.sign('UpsertProfile', { actor: 'xena', email: PENDING_EMAIL }, { requestId: rid() }, hr));
    assertOk(await h.post(h.sign('writ.Approve', { approvalId: other.body.approval.id, commandHash: other.body.commandHash }, { requestId: rid() }, publisher)));
    entry.otherApproval = other.body.approval.id;
    for (const e of [entry.plain, `access/${final.index}`, `access/${other.body.receipt.index}`]) assertOk(await h.post(h.sign('writ.Redact', { entry: e, reason: 'personal data' }, { requestId: rid() })));
    // After the redaction, a merge carries the erased value forward, not the value.
    assertOk(await h.post(h.sign('UpsertProfile', { actor: 'paul', locale: 'fr' }, { requestId: rid() })));
  });
  after(() => h.close());

  it('erases the value from the version the command wrote and from the later versions that kept it, and nothing else', async () => {
    const versions = (await h.get(`/v1/entities/${h.tenant}/profile/paul/history`)).body.versions as any[];
    assert.deepEqual(
      versions.map((v) => v.doc),
      [
        { actor: 'paul', displayName: 'Paul' },
        { actor: 'paul', displayName: 'Paul', email: ERASED, locale: ERASED },
        { actor: 'paul', displayName: 'Paul P.', email: ERASED, locale: ERASED },
        { actor: 'paul', displayName: 'Paul P.', email: ERASED, locale: 'fr' },
      ],
    );
    const current = (await h.get(`/v1/entities/${h.tenant}/profile/paul`)).body.doc;
    assert.deepEqual(current, { actor: 'paul', displayName: 'Paul P.', email: ERASED, locale: 'fr' });
    assert.equal((await h.get(`/v1/entities/${h.tenant}/profile/olga`)).body.doc.email, 'olga@example.com', 'other entities are untouched');
  });

  it("erases a held command's envelope copy in every version of its approval, and what it wrote when it ran", async () => {
    const versions = (await h.get(`/v1/entities/${h.tenant}/approval/${entry.approval}/history`)).body.versions as any[];
    assert.ok(versions.length >= 2, 'held, then executed');
    for (const v of versions) {
      assert.equal(v.doc.envelope.payload.email, ERASED);
      assert.equal(v.doc.envelope.payload.actor, 'vera', 'the field naming the target stays');
      assert.equal(v.doc.envelope.nonce, ERASED);
    }
    assert.equal(versions[versions.length - 1].doc.status, 'executed');
    assert.deepEqual((await h.get(`/v1/entities/${h.tenant}/profile/vera`)).body.doc, { actor: 'vera', email: ERASED });
    assert.deepEqual((await h.get(`/v1/entities/${h.tenant}/profile/xena`)).body.doc, { actor: 'xena', email: ERASED }, 'redacted by its PENDING record');
    assert.equal((await h.get(`/v1/entities/${h.tenant}/approval/${entry.otherApproval}`)).body.doc.envelope.payload.email, ERASED);
  });

  it('leaves no copy of either value in any row of any table, nor in the database file once checkpointed', async () => {
    const events = JSON.stringify((await h.get('/v1/outbox/events?limit=1000')).body.items);
    for (const secret of [EMAIL, HELD_EMAIL, PENDING_EMAIL]) assert.ok(!events.includes(secret), `an outbox event holds ${secret}`);
    // While writ runs: the redaction truncated the WAL, which held the pages as they were before it.
    // The files' bytes are SQLite's; PostgreSQL keeps old row versions until VACUUM (docs/deploy.md, Limits).
    const files = backend === 'sqlite';
    const live = files ? fileBytes(db) : '';
    for (const secret of [EMAIL, HELD_EMAIL, PENDING_EMAIL]) assert.ok(!live.includes(secret), `the database or its WAL holds ${secret} while writ runs`);
    await h.writ.close();
    const rows = await storedRows(h);
    for (const secret of [EMAIL, HELD_EMAIL, PENDING_EMAIL]) assert.ok(!rows.includes(secret), `a row holds ${secret}`);
    assert.ok(rows.includes('olga@example.com'), 'the search finds a value that was not redacted');
    if (files) {
      const bytes = fileBytes(db);
      for (const secret of [EMAIL, HELD_EMAIL, PENDING_EMAIL]) assert.ok(!bytes.includes(secret), `the database file holds ${secret} (free space)`);
      assert.ok(bytes.includes('olga@example.com'));
    }
    await h.restart();
  });

  it('passes writ verify, and writ rebuild finds the rebuilt state equal to the live one', async () => {
    await h.writ.close();
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    const run = await runWrit(['--home', h.home, 'rebuild']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const rebuilt = JSON.parse(run.stdout);
    assert.deepEqual(rebuilt.differences, []);
    assert.equal(rebuilt.versions.rebuilt, rebuilt.versions.stored);
    await h.restart();
  });

  describe('writ verify tells a redaction from tampering', sqliteOnly(backend, 'tampers with the SQLite driver'), () => {
    /** Runs `sql` on the closed store, verifies, undoes it; returns the problems. */
    const tampered = (sql: string, undo: string, ...params: unknown[]) => tamperedVerify(h, sql, undo, ...params);
    const version = (id: string, v: number) => `type = 'profile' AND id = '${id}' AND version = ${v}`;

    it('reports a changed field that the redaction did not erase, in the version the redacted command wrote', async () => {
      const problems = await tampered(
        `UPDATE entity_history SET doc = json_set(doc, '$.displayName', 'Mallory') WHERE ${version('paul', 2)}`,
        `UPDATE entity_history SET doc = json_set(doc, '$.displayName', 'Paul') WHERE ${version('paul', 2)}`,
      );
      assert.ok(problems.some((m) => /profile\/paul version 2 .*stored doc differs/.test(m)), JSON.stringify(problems));
    });

    it('reports an erased value in a version the redacted command never reached (before it, or re-set after it)', async () => {
      const early = await tampered(
        `UPDATE entity_history SET doc = json_set(doc, '$.displayName', '${ERASED}') WHERE ${version('paul', 1)}`,
        `UPDATE entity_history SET doc = json_set(doc, '$.displayName', 'Paul') WHERE ${version('paul', 1)}`,
      );
      assert.ok(early.some((m) => /profile\/paul version 1 .*stored doc differs/.test(m)), JSON.stringify(early));
      const later = await tampered(
        `UPDATE entity_history SET doc = json_set(doc, '$.locale', '${ERASED}') WHERE ${version('paul', 4)}`,
        `UPDATE entity_history SET doc = json_set(doc, '$.locale', 'fr') WHERE ${version('paul', 4)}`,
      );
      assert.ok(later.some((m) => /profile\/paul version 4 .*stored doc differs/.test(m)), JSON.stringify(later));
    });

    it('reports an erased value that no writ.Redact record covers', async () => {
      const problems = await tampered(
        `UPDATE entity_history SET doc = json_set(doc, '$.email', '${ERASED}') WHERE ${version('olga', 1)}`,
        `UPDATE entity_history SET doc = json_set(doc, '$.email', 'olga@example.com') WHERE ${version('olga', 1)}`,
      );
      assert.ok(problems.some((m) => /profile\/olga version 1 .*stored doc differs/.test(m)), JSON.stringify(problems));
    });

    it('reports a redacted body with a value put back, even with the state changed to match', async () => {
      const [scroll, index] = entry.plain.split('/');
      await h.writ.close();
      const d = new Database(db);
      const body = (d.prepare('SELECT envelope FROM ledger WHERE scroll = ? AND idx = ?').get(scroll, Number(index)) as { envelope: string }).envelope;
      d.close();
      const forged = JSON.stringify({ ...JSON.parse(body), payload: { ...JSON.parse(body).payload, email: 'someone@else.example' } });
      await h.restart();
      const problems = await tampered('UPDATE ledger SET envelope = ? WHERE scroll = ? AND idx = ?', `UPDATE ledger SET envelope = '${body.replace(/'/g, "''")}' WHERE ? IS NOT NULL AND scroll = ? AND idx = ?`, forged, scroll, Number(index));
      assert.ok(problems.some((m) => /not a redacted body/.test(m)), JSON.stringify(problems));
    });

    it("reports an approval's envelope copy with the value put back", async () => {
      const problems = await tampered(
        `UPDATE entity_history SET doc = json_set(doc, '$.envelope.payload.email', ?) WHERE type = 'approval' AND id = '${entry.approval}' AND version = 1`,
        `UPDATE entity_history SET doc = json_set(doc, '$.envelope.payload.email', '${ERASED}') WHERE ? IS NOT NULL AND type = 'approval' AND id = '${entry.approval}' AND version = 1`,
        HELD_EMAIL,
      );
      assert.ok(problems.some((m) => new RegExp(`approval/${entry.approval} version 1 .*stored doc differs`).test(m)), JSON.stringify(problems));
    });

    it('reports a redacted body left in place of a body that no writ.Redact record erased', async () => {
      await h.writ.close();
      const d = new Database(db);
      const row = d.prepare("SELECT scroll, idx, envelope FROM ledger WHERE envelope LIKE '%olga@example.com%'").get() as { scroll: string; idx: number; envelope: string };
      d.close();
      await h.restart();
      const forged = JSON.parse(row.envelope);
      const fake = JSON.stringify({ ...forged, nonce: ERASED, payload: { ...forged.payload, email: ERASED } });
      const problems = await tampered('UPDATE ledger SET envelope = ? WHERE scroll = ? AND idx = ?', `UPDATE ledger SET envelope = '${row.envelope.replace(/'/g, "''")}' WHERE ? IS NOT NULL AND scroll = ? AND idx = ?`, fake, row.scroll, row.idx);
      assert.ok(problems.some((m) => /does not hash to its commandHash/.test(m)), JSON.stringify(problems));
    });
  });

  it('refuses to redact a command still held for approval (its approval would run the erased body), and changes nothing', async () => {
    const hr = await h.actor('hugo', ['hr']);
    const pending = await h.post(h.sign('UpsertProfile', { actor: 'wanda', email: 'wanda@example.com' }, { requestId: rid() }, hr));
    assert.equal(pending.status, 202, pending.raw);
    const res = await h.post(h.sign('writ.Redact', { entry: `access/${pending.body.receipt.index}`, reason: 'personal data' }, { requestId: rid() }));
    assert.equal(res.status, 409, res.raw);
    assert.equal(res.body.code, 'INVALID_STATE');
    assert.match(res.body.message, /still held for approval; reject it/);
    const doc = (await h.get(`/v1/entities/${h.tenant}/approval/${pending.body.approval.id}`)).body.doc;
    assert.equal(doc.envelope.payload.email, 'wanda@example.com');
  });
});
