import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CODES, PENDING_EXIT } from '../src/core/codes.js';
import { runWrit, servedHome } from './support/cli.js';

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

/** First run and tenants through the real CLI against a running `writ serve`. */
describe('first run and tenants from the command line', () => {
  const { scratch, home, server, writ } = servedHome('writ-tenants-cli-', ['--admins', 'alice,bob,carol', '--port', '0']);
  const as = (actor: string) => ['--key', join(home, 'keys', `${actor}.key`), '--key-id', `${actor}#1`];

  describe('writ init --admins', () => {
    it('registers one key per admin (keys/<actor>.key, key id <actor>#1), and the CLI signs as the first', async () => {
      for (const actor of ['alice', 'bob', 'carol']) assert.match(readFileSync(join(home, 'keys', `${actor}.key`), 'utf8'), /BEGIN PRIVATE KEY/);
      assert.equal(existsSync(join(home, 'keys', 'admin.key')), false);
      const keys = await writ('keys', 'list');
      assert.equal(keys.code, 0, keys.stderr);
      assert.deepEqual(json(keys.stdout).map((k: any) => [k.actor, k.keyId]).sort(), [['alice', 'alice#1'], ['bob', 'bob#1'], ['carol', 'carol#1']]);
    });

    it('lets three admins grant admin through the two-admin quorum: keys new reports the grant held (exit PENDING), two others approve', async () => {
      const made = await writ('keys', 'new', '--actor', 'dave', '--roles', 'admin');
      assert.equal(made.code, PENDING_EXIT, `${made.stdout}\n${made.stderr}`);
      const out = json(made.stdout);
      assert.equal(out.keyId, 'dave#1', 'the key is registered');
      assert.deepEqual(out.roles, []);
      const approvalId = out.held[0].approvalId;
      assert.match(approvalId, /^[0-9a-f-]{36}$/);
      assert.match(made.stderr, new RegExp(`held for approval ${approvalId}`));
      assert.doesNotMatch(made.stderr, /failed/);
      for (const approver of ['bob', 'carol']) {
        const ok = await writ('approvals', 'approve', approvalId, ...as(approver));
        assert.equal(ok.code, 0, `${approver}: ${ok.stdout}${ok.stderr}`);
      }
      const dave = await writ('get', '/v1/entities/default/actor/dave');
      assert.deepEqual(json(dave.stdout).doc.roles, ['admin']);
    });

    it('refuses a bad --admins list before creating anything', async () => {
      for (const list of ['alice,alice', 'writ', 'a b', ',']) {
        const dir = join(scratch, `bad-${Math.random().toString(36).slice(2)}`);
        const run = await runWrit(['--home', dir, 'init', '--admins', list]);
        assert.equal(run.code, 2, `${list}: ${run.stderr}`);
        assert.equal(existsSync(join(dir, 'config.json')), false);
      }
    });

    it('says at init that a single admin cannot grant admin, and how to start with more', async () => {
      const run = await runWrit(['--home', join(scratch, 'single'), 'init']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(json(run.stdout).note, /one admin/);
      assert.match(run.stderr, /--admins/);
    });
  });

  it("explains the shipped example examples/publish.json with the roles the server gives the home's admin", async () => {
    const run = await writ('policy', 'explain', 'examples/publish.json');
    assert.equal(run.code, 0, run.stderr);
    const out = json(run.stdout);
    assert.deepEqual([out.request.actor, out.request.rolesFrom, out.request.roles], ['alice', 'server', ['admin']]);
  });

  describe('writ tenants', () => {
    const keyOut = join(scratch, 'zed.key');

    it('creates a tenant with its first admin, whose key then signs in the new tenant', async () => {
      const run = await writ('tenants', 'create', 'acme', '--admin', 'zed', '--admin-key-out', keyOut);
      assert.equal(run.code, 0, run.stderr);
      const out = json(run.stdout);
      assert.equal(out.ready, true);
      assert.equal(out.keyId, 'zed#1');
      assert.equal(out.keyFile, keyOut);
      const made = await writ('keys', 'new', '--actor', 'yan', '--tenant', 'acme', '--key', keyOut, '--key-id', 'zed#1', '--roles', 'editor');
      assert.equal(made.code, 0, made.stderr);
      assert.deepEqual(json(made.stdout).roles, ['editor']);
    });

    it('lists the tenants to an admin of the home tenant, and refuses the admin of another tenant', async () => {
      const run = await writ('tenants', 'list');
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(json(run.stdout).map((t: any) => [t.tenant, t.home, t.ready]), [['acme', false, true], ['default', true, true]]);
      const other = await writ('tenants', 'list', '--key', keyOut, '--key-id', 'zed#1');
      // zed's key is not registered in the home tenant, whose identity the CLI signs reads as.
      assert.notEqual(other.code, 0);
    });

    it('refuses an existing tenant with INVALID_STATE and leaves no key file behind', async () => {
      const out = join(scratch, 'again.key');
      const run = await writ('tenants', 'create', 'acme', '--admin', 'mallory', '--admin-key-out', out);
      assert.equal(run.code, CODES.INVALID_STATE.exit, run.stderr);
      assert.match(run.stderr, /exists already/);
      assert.equal(existsSync(out), false);
    });

    it('refuses a bad tenant name before signing anything', async () => {
      for (const name of ['.hidden', 'x'.repeat(65), 'a/b']) {
        const run = await writ('tenants', 'create', name, '--admin', 'zed');
        assert.equal(run.code, 2, `${name}: ${run.stderr}`);
      }
    });
  });
});
