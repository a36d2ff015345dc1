import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PENDING_EXIT } from '../../core/codes.js';
import { PATTERNS } from '../../core/envelope.js';
import { writeKeyPair } from '../../home/keys.js';
import { signEnvelope, type Signer } from '../../sdk/sign.js';
import type { WritClient } from '../../sdk/client.js';
import { clientOf, CliError, configOf, exitCodeOf, globals, heldReport, print, signerOf, signerOptions } from './context.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
}

async function run(client: WritClient, signer: Signer, tenant: string, action: string, payload: Record<string, unknown>) {
  const { envelope } = signEnvelope({ action, tenant, payload }, signer);
  return client.submit(envelope);
}

function fail(what: string, answer: { status: number; body: any }): never {
  const b = answer.body ?? {};
  throw new CliError(`${what} failed: ${b.code ?? answer.status} ${b.message ?? JSON.stringify(b)}`, exitCodeOf(answer as never) || 1);
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('manage actors\' keys (signed writ.RegisterKey / writ.RevokeKey commands)');
  const as = signerOptions;

  as(keys.command('new'))
    .description('generate an Ed25519 key pair for an actor, register it and assign roles')
    .requiredOption('--actor <actor>', 'the actor the key belongs to')
    .option('--roles <roles>', 'comma-separated roles to assign', '')
    .action(async (opts: AsOptions & { actor: string; roles: string }, cmd: Command) => {
      const g = globals(cmd);
      if (!PATTERNS.actor.test(opts.actor)) throw new CliError(`--actor ${JSON.stringify(opts.actor)} is not a valid actor name`, 2);
      const roles = opts.roles.split(',').map((r) => r.trim()).filter(Boolean);
      const config = configOf(g);
      const tenant = opts.tenant ?? config.tenant;
      const client = clientOf(g, opts);
      const signer = signerOf(opts, g);
      const safe = opts.actor.replace(/[^A-Za-z0-9._-]/g, '_');
      let n = 1;
      while (existsSync(join(resolve(config.home), 'keys', `${safe}-${n}.key`))) n++;
      const pair = writeKeyPair(join(config.home, 'keys', `${safe}-${n}.key`));
      let keyId = `${opts.actor}#${n}`;
      let answer = await run(client, signer, tenant, 'writ.RegisterKey', { actor: opts.actor, keyId, alg: 'ed25519', publicKey: pair.publicPem });
      while (answer.body?.code === 'INVALID_STATE' && n < 1000) {
        keyId = `${opts.actor}#${++n}`;
        answer = await run(client, signer, tenant, 'writ.RegisterKey', { actor: opts.actor, keyId, alg: 'ed25519', publicKey: pair.publicPem });
      }
      if (answer.status !== 200) {
        rmSync(pair.privatePath, { force: true });
        rmSync(pair.publicPath, { force: true });
        fail('registering the key', answer);
      }
      // A role whose grant policy holds for approval (admin, breakglass) is reported as held, with
      // its approval; the key stays registered either way.
      const assigned: string[] = [];
      const held: Record<string, unknown>[] = [];
      for (const role of roles) {
        const a = await run(client, signer, tenant, 'AssignRole', { actor: opts.actor, role });
        if (a.status === 202) held.push({ role, ...heldReport(`AssignRole ${role} to ${opts.actor}`, a) });
        else if (a.status === 200 || a.body?.code === 'INVALID_STATE') assigned.push(role);
        else fail(`assigning role ${role} (the key ${keyId} is registered)`, a);
      }
      print({ actor: opts.actor, tenant, keyId, keyFile: pair.privatePath, publicKeyFile: pair.publicPath, roles: assigned, ...(held.length ? { held } : {}) });
      if (held.length) {
        process.stderr.write(`writ: the key is registered; ${held.map((h) => `role ${h.role} is held for approval ${h.approvalId}`).join(', ')} (it is granted once approved)\n`);
        process.exitCode = PENDING_EXIT;
      }
    });

  keys
    .command('list')
    .description('list registered keys of a tenant')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .action(async (opts: { tenant?: string }, cmd: Command) => {
      const g = globals(cmd);
      const tenant = opts.tenant ?? configOf(g).tenant;
      const client = clientOf(g, opts);
      const out: unknown[] = [];
      let after: string | null = null;
      do {
        const page = await client.get(`/v1/entities/${encodeURIComponent(tenant)}/key?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        if (page.status !== 200) fail('listing keys', page);
        for (const e of page.body.items) out.push({ keyId: e.doc.keyId, actor: e.doc.actor, alg: e.doc.alg, revokedAt: e.doc.revokedAt, notBefore: e.doc.notBefore, notAfter: e.doc.notAfter });
        after = page.body.next;
      } while (after);
      print(out);
    });

  as(keys.command('revoke'))
    .description('revoke a key')
    .argument('<keyId>', 'the key id to revoke')
    .option('--reason <text>', 'why (recorded in the ledger)')
    .action(async (keyId: string, opts: AsOptions & { reason?: string }, cmd: Command) => {
      const g = globals(cmd);
      const tenant = opts.tenant ?? configOf(g).tenant;
      const answer = await run(clientOf(g, opts), signerOf(opts, g), tenant, 'writ.RevokeKey', { keyId, ...(opts.reason ? { reason: opts.reason } : {}) });
      print(answer.body);
      process.exitCode = exitCodeOf(answer);
    });
}
