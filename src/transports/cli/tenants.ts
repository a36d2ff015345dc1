import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PENDING_EXIT } from '../../core/codes.js';
import { PATTERNS } from '../../core/envelope.js';
import { firstKeyId } from '../../home/bootstrap.js';
import { writeKeyPair } from '../../home/keys.js';
import type { WritClient } from '../../sdk/client.js';
import { signEnvelope } from '../../sdk/sign.js';
import { CliError, clientOf, configOf, exitCodeOf, globals, heldReport, print, signerOf } from './context.js';

/** How long `tenants create` waits for writ to put the new tenant's admin in place. */
const READY_WAIT_MS = 15_000;

interface CreateOptions {
  admin: string;
  adminKeyOut?: string;
  key?: string;
  keyId?: string;
}

interface Listed {
  readonly tenant: string;
  readonly ready: boolean;
  readonly created: { readonly record: string } | null;
}

/** Every tenant GET /v1/tenants lists, page by page. */
async function allTenants(client: WritClient): Promise<Listed[]> {
  const items: Listed[] = [];
  let after: string | null = null;
  do {
    const page = await client.get(`/v1/tenants?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    if (page.status !== 200) throw new CliError(`listing tenants failed: ${page.body?.code ?? page.status} ${page.body?.message ?? ''}`, exitCodeOf(page) || 1);
    items.push(...(page.body.items as Listed[]));
    after = page.body.next;
  } while (after);
  return items;
}

async function waitReady(client: WritClient, tenant: string): Promise<{ ready: boolean; record?: string }> {
  const until = Date.now() + READY_WAIT_MS;
  for (;;) {
    const t = (await allTenants(client)).find((l) => l.tenant === tenant);
    if (t?.ready || Date.now() > until) return { ready: t?.ready === true, ...(t?.created?.record ? { record: t.created.record } : {}) };
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function registerTenantCommands(program: Command): void {
  const tenants = program.command('tenants').description("the deployment's tenants: create one with its first admin (signed writ.CreateTenant), list them");

  tenants
    .command('create')
    .description("create a tenant and its first admin: an Ed25519 key pair is made here, writ.CreateTenant is signed by an admin of the home tenant, and writ registers the key (id <admin>#1) and assigns admin in the new tenant")
    .argument('<tenant>', 'the new tenant (letters, digits, . _ -; at most 64 characters)')
    .requiredOption('--admin <actor>', "the new tenant's first admin")
    .option('--admin-key-out <file>', "where to write the admin's private key (default: <home>/keys/tenants/<tenant>/<admin>.key; the .pub goes beside it)")
    .option('--key <file>', "private key that signs (default: the home's admin key)")
    .option('--key-id <id>', 'key id of --key')
    .action(async (tenant: string, opts: CreateOptions, cmd: Command) => {
      const g = globals(cmd);
      if (!PATTERNS.tenant.test(tenant)) throw new CliError(`${JSON.stringify(tenant)} is not a tenant name: a letter or digit, then letters, digits, . _ -, at most 64 characters`, 2);
      if (!PATTERNS.actor.test(opts.admin) || opts.admin.includes(':') || opts.admin === 'writ') throw new CliError(`--admin ${JSON.stringify(opts.admin)} is not an admin name (letters, digits, . _ @ -; not "writ")`, 2);
      const config = configOf(g);
      const client = clientOf(g, opts);
      const signer = signerOf(opts, g);
      const out = resolve(opts.adminKeyOut ?? join(config.home, 'keys', 'tenants', tenant, `${opts.admin}.key`));
      let pair;
      try {
        pair = writeKeyPair(out);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const { envelope } = signEnvelope({ action: 'writ.CreateTenant', tenant: config.tenant, payload: { tenant, admin: opts.admin, alg: 'ed25519', publicKey: pair.publicPem } }, signer);
      const answer = await client.submit(envelope);
      if (answer.status === 202) {
        // Kept: the admin's key is the one the tenant gets once the command is approved.
        print({ tenant, admin: opts.admin, keyId: firstKeyId(opts.admin), keyFile: pair.privatePath, publicKeyFile: pair.publicPath, ...heldReport(`writ.CreateTenant ${tenant}`, answer) });
        process.exitCode = PENDING_EXIT;
        return;
      }
      if (answer.status !== 200) {
        rmSync(pair.privatePath, { force: true });
        rmSync(pair.publicPath, { force: true });
        const b = answer.body ?? {};
        throw new CliError(`creating tenant ${tenant} failed: ${b.code ?? answer.status} ${b.message ?? JSON.stringify(b)}`, exitCodeOf(answer) || 1);
      }
      const state = await waitReady(client, tenant);
      print({ tenant, admin: opts.admin, keyId: firstKeyId(opts.admin), keyFile: pair.privatePath, publicKeyFile: pair.publicPath, receipt: answer.body.receipt, ...state });
      if (!state.ready) {
        process.stderr.write(`writ: tenant ${tenant} is recorded, but its admin is not in place yet; the server completes it (see \`writ tenants list\` and its log)\n`);
        process.exitCode = 1;
      }
    });

  tenants
    .command('list')
    .description("list the deployment's tenants (GET /v1/tenants; operators of the home tenant)")
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      print(await allTenants(clientOf(g)));
    });
}
