import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinPacksDir } from '../src/writ.js';
import { runWrit, startServer, type ServerChild } from './support/cli.js';

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${text}`);
  }
}

describe('writ policy', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-policy-cli-'));
  const home = join(scratch, 'home');
  let server: ServerChild | undefined;
  let url = '';
  const writ = (args: string[], input?: string) => runWrit(['--home', home, ...(url ? ['--url', url] : []), ...args], { input });
  const envelope = (name: string, value: Record<string, unknown>) => {
    const path = join(scratch, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };

  before(async () => {
    const init = await runWrit(['--home', home, 'init']);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('is a command of writ (src/transports/cli/main.ts registers it)', async () => {
    const run = await writ(['policy', '--help']);
    assert.equal(run.code, 0, `writ policy is not registered: ${run.stderr}`);
    assert.match(run.stdout, /check/);
    assert.match(run.stdout, /explain/);
  });

  describe('check', () => {
    it('validates the shipped and the home\'s policies and prints the counts', async () => {
      writeFileSync(join(home, 'policies', 'merch.cedar'), '// merchandisers\npermit (principal in Writ::Role::"merch", action == Writ::Action::"UpsertProduct", resource);\n');
      const run = await writ(['policy', 'check']);
      assert.equal(run.code, 0, run.stderr);
      const out = json(run.stdout);
      assert.equal(out.ok, true);
      const packs = readdirSync(builtinPacksDir()).filter((p) => existsSync(join(builtinPacksDir(), p, 'policies.cedar'))).length;
      assert.equal(out.files, packs + 1, 'every built-in pack and merch.cedar');
      assert.equal(out.forbids, 6, 'the writ pack forbids writ.ExpireApproval and writ.RecordPolicy to all, writ.BreakGlass to all but role breakglass; the access pack SpendOtpAttempt to all; the ops pack StartOpAttempt and RecordOpResult to all but role effector, SubmitOp and RollbackOp to the effector');
      assert.ok(out.permits >= 6);
      assert.ok(out.needingApproval >= 1, 'the access pack asks for approval to grant admin');
      assert.ok(out.actions > 10);
      assert.deepEqual(out.warnings, []);
    });

    it('exits 2 and lists every problem with its file and line', async () => {
      const bad = join(home, 'policies', 'bad.cedar');
      writeFileSync(bad, '// typo in the action, then a bad quorum\npermit (principal, action == Writ::Action::"UpsertProdcut", resource);\n@approval("quorum=0")\npermit (principal, action, resource);\n');
      try {
        const run = await writ(['policy', 'check']);
        assert.equal(run.code, 2, run.stdout + run.stderr);
        assert.match(run.stderr, /2 problems in the policies; fix them and run `writ policy check` again/);
        assert.ok(run.stderr.includes(`${bad}:2: unrecognized action \`Writ::Action::"UpsertProdcut"\``), run.stderr);
        assert.ok(run.stderr.includes(`${bad}:3: @approval: quorum must be an integer`), run.stderr);
      } finally {
        rmSync(bad);
      }
    });
  });

  describe('schema', () => {
    it('prints the Cedar schema generated from the catalog', async () => {
      const run = await writ(['policy', 'schema']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /namespace Writ \{/);
      assert.match(run.stdout, /entity Actor in \[Role\]/);
      assert.match(run.stdout, /action "AssignRole" in \[Action::"pack:access"\]/);
      assert.match(run.stdout, /role: __cedar::String/);
    });
  });

  describe('explain', () => {
    before(async () => {
      server = startServer(home);
      url = await server.ready;
      const ed = await writ(['keys', 'new', '--actor', 'ed', '--roles', 'editor']);
      assert.equal(ed.code, 0, ed.stderr);
    });

    it('says granting admin needs two other admins\' approval, with the admin\'s roles read from the server', async () => {
      const run = await writ(['policy', 'explain', envelope('grant.json', { action: 'AssignRole', actor: 'admin', payload: { actor: 'ed', role: 'admin' } })]);
      assert.equal(run.code, 0, run.stderr);
      const out = json(run.stdout);
      assert.deepEqual(out.request, { tenant: 'default', actor: 'admin', action: 'AssignRole', target: 'actor/ed', roles: ['admin'], rolesFrom: 'server' });
      assert.equal(out.decision, 'approval');
      assert.equal(out.requirement.quorum, 2);
      assert.deepEqual(out.requirement.roles, ['admin']);
      assert.equal(out.requirement.allowSelf, false);
      assert.equal(out.matched.length, 1);
      assert.deepEqual([out.matched[0].policy, out.matched[0].file], ['packs/access/policies.cedar#1', 'packs/access/policies.cedar']);
      assert.equal(out.requirement.policy, 'packs/access/policies.cedar#1');
      assert.equal(out.matched[0].line, 7);
      assert.match(out.why, /needs approval: .*2 approvals by admin \(not the requester\)/);
    });

    it('allows outright what an un-annotated permit matches', async () => {
      const run = await writ(['policy', 'explain', envelope('role.json', { action: 'AssignRole', actor: 'admin', payload: { actor: 'ed', role: 'publisher' } })]);
      const out = json(run.stdout);
      assert.equal(out.decision, 'allow');
      assert.equal(out.requirement, null);
      assert.match(out.why, /allowed outright: packs\/access\/policies\.cedar:3 permits/);
    });

    it('reads an editor\'s roles from the server, and an unknown actor has none', async () => {
      const product = { action: 'UpsertProduct', actor: 'ed', payload: { sku: 'tea', name: 'Tea', price: { amount: 1, currency: 'EUR' } } };
      const ed = json((await writ(['policy', 'explain', envelope('ed.json', product)])).stdout);
      assert.deepEqual([ed.request.roles, ed.decision], [['editor'], 'allow']);
      const ghost = json((await writ(['policy', 'explain', envelope('ghost.json', { ...product, actor: 'ghost' })])).stdout);
      assert.deepEqual([ghost.request.roles, ghost.decision], [[], 'deny']);
      assert.match(ghost.why, /no permit matches ghost \(no roles\)/);
    });

    it('takes --roles instead of the server\'s, and an envelope on stdin', async () => {
      const run = await writ(['policy', 'explain', '--roles', 'editor,publisher', '-'], JSON.stringify({ action: 'AssignRole', actor: 'admin', tenant: 'default', payload: { actor: 'ed', role: 'admin' } }));
      assert.equal(run.code, 0, run.stderr);
      const out = json(run.stdout);
      assert.deepEqual([out.request.rolesFrom, out.request.roles, out.decision], ['--roles', ['editor', 'publisher'], 'deny']);
    });

    it('names a policy of the home relative to the home, never by its absolute path', async () => {
      const file = join(home, 'policies', 'interns.cedar');
      writeFileSync(file, '// interns\n@approval("quorum=1 roles=admin")\npermit (principal in Writ::Role::"intern", action == Writ::Action::"UpsertProduct", resource);\n');
      try {
        const product = { action: 'UpsertProduct', actor: 'ivy', payload: { sku: 'tea', name: 'Tea', price: { amount: 1, currency: 'EUR' } } };
        const run = await writ(['policy', 'explain', '--roles', 'intern', envelope('intern.json', product)]);
        assert.equal(run.code, 0, run.stderr);
        const out = json(run.stdout);
        assert.equal(out.decision, 'approval');
        assert.deepEqual(out.matched.map((m: any) => [m.policy, m.file, m.line]), [['policies/interns.cedar#0', 'policies/interns.cedar', 2]]);
        assert.equal(out.requirement.policy, 'policies/interns.cedar#0');
        assert.match(out.why, /policies\/interns\.cedar:2: 1 approval by admin/);
        assert.ok(!run.stdout.includes(scratch), run.stdout);
      } finally {
        rmSync(file);
      }
    });

    it('exits 2 on an action no pack defines', async () => {
      const run = await writ(['policy', 'explain', envelope('nope.json', { action: 'Nope', actor: 'admin', payload: {} })]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /no pack defines the action Nope/);
    });
  });
});
