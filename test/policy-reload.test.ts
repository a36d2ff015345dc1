import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { reloadPolicyOnSighup } from '../src/transports/cli/policy-signal.js';
import { describeEachBackend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';
import { reloadPolicy, sha256, writRecords } from './support/policy-reload.js';

/**
 * Policy reload (docs/policy.md, "Reloading"): the files are read again, validated as at start and
 * put in force whole on the running writ; each effective reload is a writ.RecordPolicy record of
 * the home tenant naming the set's digest, its files and who reloaded.
 */
describeEachBackend('policy reload', (backend) => {
  let h: Harness;
  const freeze = 'forbid (principal, action == Writ::Action::"UpsertProduct", resource);\n';
  const file = (name: string) => join(h.home, 'policies', name);
  const upsert = (sku: string) => h.post(h.sign('UpsertProduct', { sku, name: 'Lamp', price: { amount: 100, currency: 'EUR' } }));
  const inForce = async () => (await h.get('/v1/policy')).body;

  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(() => h.close());

  it('puts a new forbid in force at once (a decision memoised under the old set does not outlive it) and records the set, its files and who reloaded', async () => {
    assert.equal((await upsert('before-1')).status, 200);
    const start = await inForce();
    const logBefore = (await writRecords(h)).length;
    writeFileSync(file('freeze.cedar'), freeze);
    const res = await reloadPolicy(h);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'reloaded');
    assert.equal(res.body.previous, start.digest);
    assert.notEqual(res.body.digest, start.digest);
    const refused = await upsert('before-2');
    assert.equal(refused.status, 403, refused.raw);
    assert.deepEqual(refused.body.details.policies, ['policies/freeze.cedar#0']);
    // The digest is the sha256sum of the files' sha256sum lines, sorted by name: recomputed here from the disk.
    const names = res.body.files.map((f: any) => f.name);
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('policies/freeze.cedar') && names.includes('packs/writ/policies.cedar'), names.join(', '));
    assert.equal(res.body.files.find((f: any) => f.name === 'policies/freeze.cedar').sha256, sha256(readFileSync(file('freeze.cedar'))));
    assert.equal(res.body.digest, sha256(res.body.files.map((f: any) => `${f.sha256}  ${f.name}\n`).join('')));
    assert.deepEqual(await inForce(), { digest: res.body.digest, files: res.body.files, policies: start.policies + 1 });
    // The ledger: one record more, writ's own, carrying the digest, the previous one and the admin who reloaded.
    const records = await writRecords(h);
    assert.equal(records.length, logBefore + 1);
    const last = records.at(-1);
    assert.deepEqual([last.action, last.actor, last.outcome, last.requestId], ['writ.RecordPolicy', 'writ', 'OK', res.body.requestId]);
    const entity = (await h.get(`/v1/entities/${h.tenant}/policyset/in-force`)).body.doc;
    assert.deepEqual(entity, { digest: res.body.digest, previous: start.digest, files: res.body.files, by: 'actor:admin' });
  });

  it('answers "unchanged" and records nothing when the files are the set in force', async () => {
    const before = await writRecords(h);
    const res = await reloadPolicy(h);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'unchanged');
    assert.equal(res.body.digest, res.body.previous);
    assert.equal(res.body.requestId, undefined);
    assert.equal((await writRecords(h)).length, before.length);
  });

  it('refuses an invalid set with POLICY_INVALID listing every problem by file and line, without machine paths, and changes nothing', async () => {
    const set = await inForce();
    const log = (await writRecords(h)).length;
    rmSync(file('freeze.cedar'));
    writeFileSync(file('bad-syntax.cedar'), 'permit (principal, action, resource)\nforbid (\n');
    writeFileSync(file('bad-schema.cedar'), '// an action no pack defines\npermit (principal, action == Writ::Action::"NoSuchAction", resource);\n');
    const res = await reloadPolicy(h);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.code, 'POLICY_INVALID');
    const problems: string[] = res.body.details.problems;
    assert.ok(problems.some((p) => p.startsWith('policies/bad-syntax.cedar:')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('policies/bad-schema.cedar:2:')), problems.join('\n'));
    assert.ok(!JSON.stringify(res.body).includes(h.home), 'no path of this machine in the answer');
    assert.deepEqual(await inForce(), set, 'the set in force stays');
    assert.equal((await writRecords(h)).length, log, 'nothing recorded');
    assert.equal((await upsert('still-frozen')).status, 403, 'the forbid of the set in force still decides');
    rmSync(file('bad-syntax.cedar'));
    rmSync(file('bad-schema.cedar'));
  });

  it('refuses writ.RecordPolicy to an admin: only writ records the set in force', async () => {
    const forged = { digest: 'a'.repeat(64), previous: 'b'.repeat(64), files: [], by: 'actor:admin' };
    const res = await h.post(h.sign('writ.RecordPolicy', forged));
    assert.equal(res.status, 403, res.raw);
    assert.equal(res.body.code, 'FORBIDDEN');
    assert.notEqual((await h.get(`/v1/entities/${h.tenant}/policyset/in-force`)).body.doc.digest, forged.digest);
  });

  it('reloads on SIGHUP, recorded as by signal:SIGHUP', async () => {
    const before = await inForce();
    const stop = reloadPolicyOnSighup(h.writ);
    try {
      // freeze.cedar was removed above: the set on disk now lets UpsertProduct again.
      process.kill(process.pid, 'SIGHUP');
      for (let i = 0; (await inForce()).digest === before.digest; i++) {
        assert.ok(i < 200, 'SIGHUP reloaded within 5 s');
        await sleep(25);
      }
    } finally {
      stop();
    }
    assert.equal((await upsert('thawed-1')).status, 200);
    assert.equal((await h.get(`/v1/entities/${h.tenant}/policyset/in-force`)).body.doc.by, 'signal:SIGHUP');
  });

  it('records at start a set whose files changed while writ was stopped, naming the set recorded before', async () => {
    const recorded = (await inForce()).digest;
    writeFileSync(file('freeze.cedar'), freeze);
    await h.restart();
    const now = await inForce();
    assert.notEqual(now.digest, recorded);
    const doc = (await h.get(`/v1/entities/${h.tenant}/policyset/in-force`)).body.doc;
    assert.deepEqual([doc.digest, doc.previous, doc.by], [now.digest, recorded, 'start']);
    // A start with the files as recorded records nothing.
    const log = (await writRecords(h)).length;
    await h.restart();
    assert.equal((await writRecords(h)).length, log);
  });
});
