import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend, sqliteOnly } from './support/backends.js';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/config.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertOk } from './support/stage-helpers.js';

const EMAIL = 'paul.private@example.com';

/**
 * writ.Redact erases more than the stored body (issue 12): the redacted command's outbox event and
 * the result of its stored answer go too, in the same transaction, and `writ verify` still passes —
 * while an answer erased without a writ.Redact record is reported as an edit.
 */
describeEachBackend('writ.Redact erases the copies writ holds beside the body', (backend) => {
  let h: Harness;
  let secret: { requestId: string; index: number };
  let other: string;

  before(async () => {
    h = await startHarness({}, { backend });
    const s = assertOk(await h.post(h.sign('UpsertProfile', { actor: 'paul', email: EMAIL }, { requestId: rid() })));
    secret = { requestId: s.requestId, index: s.receipt.index };
    other = assertOk(await h.post(h.sign('UpsertProfile', { actor: 'olga', email: 'olga@example.com' }, { requestId: rid() }))).requestId;
    assertOk(await h.post(h.sign('writ.Redact', { entry: `access/${secret.index}`, reason: 'personal data' })));
  });
  after(() => h.close());

  it("replaces the redacted command's outbox event data with who redacted it, when and why", async () => {
    const events = (await h.get('/v1/outbox/events?limit=1000')).body.items as any[];
    const event = events.find((e) => e.scroll === 'access' && e.index === secret.index);
    assert.ok(event, 'the event stays (commit order, pending deliveries)');
    assert.doesNotMatch(JSON.stringify(event), new RegExp(EMAIL));
    assert.equal(event.data.redacted.by, 'admin');
    assert.equal(event.data.redacted.reason, 'personal data');
    assert.ok(events.some((e) => JSON.stringify(e).includes('olga@example.com')), 'other events are untouched');
  });

  it("erases the result of the command's stored answer and says so", async () => {
    const res = await h.get(`/v1/commands/${h.tenant}/${secret.requestId}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.result, undefined);
    assert.equal(res.body.redacted.reason, 'personal data');
    assert.equal(res.body.receipt.index, secret.index, 'the receipt stays: the proof still verifies');
    assert.ok((await h.get(`/v1/commands/${h.tenant}/${other}`)).body.result !== undefined);
  });

  it('passes writ verify, and reports an answer erased the same way without a writ.Redact record', sqliteOnly(backend, 'edits the answer with the SQLite driver'), async () => {
    await h.writ.close();
    const config = loadConfig(h.home);
    const clean = await verifyHome(config, { progress: false });
    assert.equal(clean.ok, true, JSON.stringify(clean.problems, null, 1));
    const d = new Database(config.store.path);
    const row = d.prepare('SELECT response FROM outcomes WHERE request_id = ?').get(other) as { response: string };
    const forged = JSON.parse(row.response);
    delete forged.result;
    forged.redacted = { at: '2026-01-01T00:00:00.000Z', by: 'admin', reason: 'forged' };
    d.prepare('UPDATE outcomes SET response = ? WHERE request_id = ?').run(JSON.stringify(forged), other);
    d.close();
    const report = await verifyHome(config, { progress: false });
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => /result was erased, but no writ.Redact record erased/.test(p.message)), JSON.stringify(report.problems, null, 1));
    await h.restart();
  });
});
