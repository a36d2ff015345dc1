import type { Command } from 'commander';
import type { Catalog } from '../../catalog/catalog.js';
import type { Config } from '../../config/config.js';
import { PATTERNS } from '../../core/envelope.js';
import { Policy, PolicyError, type PolicySource } from '../../policy/cedar.js';
import { explain } from '../../policy/explain.js';
import { cedarSchemaText } from '../../policy/schema.js';
import { policySources, toolCatalog } from '../../writ.js';
import { CliError, clientOf, configOf, exitCodeOf, globals, print, readJsonInput, signerOptions, type GlobalOptions } from './context.js';

interface Loaded {
  readonly config: Config;
  readonly catalog: Catalog;
  readonly sources: PolicySource[];
  readonly policy: Policy;
}

/** The home's catalog and every policy of it (packs, then `<home>/policies`), validated like `writ serve` does. */
async function loadHome(g: GlobalOptions): Promise<Loaded> {
  const config = configOf(g);
  let catalog: Catalog;
  try {
    catalog = await toolCatalog(config.packsDir);
  } catch (err) {
    throw new CliError(`the packs do not load, so their policies cannot be checked: ${(err as Error).message}`, 2);
  }
  const sources = policySources(catalog, config.policiesDir);
  try {
    return { config, catalog, sources, policy: Policy.load(sources, { catalog }) };
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const n = err.problems.length;
    throw new CliError(`${n} problem${n === 1 ? '' : 's'} in the policies; fix ${n === 1 ? 'it' : 'them'} and run \`writ policy check\` again:\n  ${err.problems.join('\n  ')}`, 2);
  }
}

/** The roles the running server's state gives the actor (its `actor` entity, kept by AssignRole/RevokeRole). */
async function rolesFromServer(g: GlobalOptions, tenant: string, actor: string): Promise<string[]> {
  let answer;
  try {
    answer = await clientOf(g).get(`/v1/entities/${encodeURIComponent(tenant)}/actor/${encodeURIComponent(actor)}`);
  } catch (err) {
    throw new CliError(`${(err as Error).message} (or give the actor's roles with --roles)`, 1);
  }
  if (answer.status === 404) return [];
  if (answer.status !== 200) throw new CliError(`reading ${actor}'s roles failed: ${answer.status} ${JSON.stringify(answer.body)}; give them with --roles`, 1);
  const body = answer.body as { deleted?: boolean; doc?: { roles?: unknown } };
  return !body.deleted && Array.isArray(body.doc?.roles) ? (body.doc.roles as string[]) : [];
}

function field(env: Record<string, unknown>, name: string, pattern: RegExp, file: string): string {
  const v = env[name];
  if (typeof v !== 'string' || !pattern.test(v)) throw new CliError(`${file}: "${name}" must be a string matching ${pattern.source}; is it a command envelope?`, 2);
  return v;
}

async function explainFile(file: string, opts: { roles?: string; actor?: string }, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const { config, catalog, policy } = await loadHome(g);
  const env = await readJsonInput(file);
  if (opts.actor !== undefined && !PATTERNS.actor.test(opts.actor)) throw new CliError(`--actor ${JSON.stringify(opts.actor)} is not an actor name`, 2);
  // An unsigned example (action and payload, as `writ submit` takes it) is explained for the actor
  // that would sign it: --actor, else the home's admin, as `writ submit` signs by default.
  const actor = env.actor === undefined ? (opts.actor ?? config.admin) : field(env, 'actor', PATTERNS.actor, file);
  const name = field(env, 'action', PATTERNS.action, file);
  const tenant = env.tenant === undefined ? config.tenant : field(env, 'tenant', PATTERNS.tenant, file);
  const payload = env.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new CliError(`${file}: "payload" must be a JSON object`, 2);
  const action = catalog.get(name);
  if (!action) throw new CliError(`${file}: no pack defines the action ${name}; \`GET /v1/catalog\` lists them`, 2);
  let target: { type: string; id: string };
  try {
    target = catalog.target(action, payload as Record<string, unknown>, typeof env.target === 'string' ? env.target : undefined);
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, 2);
  }
  const roles = opts.roles !== undefined ? opts.roles.split(',').map((r) => r.trim()).filter(Boolean) : await rolesFromServer(g, tenant, actor);
  const request = { tenant, actor, roles, action: name, pack: action.pack, target: `${target.type}/${target.id}`, payload: payload as Record<string, unknown> };
  const valid = action.validate(payload);
  print({
    request: { tenant, actor, action: name, target: request.target, roles, rolesFrom: opts.roles !== undefined ? '--roles' : 'server' },
    ...explain(policy, request),
    ...(valid ? {} : { note: `the payload does not match ${name}'s schema, so writ would refuse the command (INVALID_PAYLOAD) before asking policy` }),
  });
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('check, explain and reload the Cedar policies of the home (packs and <home>/policies)');

  policy
    .command('check')
    .description('load and validate every policy against the schema generated from the catalog; exit 2 on any problem')
    .action(async (_opts: unknown, cmd: Command) => {
      const { sources, policy: loaded, catalog } = await loadHome(globals(cmd));
      const all = loaded.policies();
      print({
        ok: true,
        files: sources.length,
        policies: all.length,
        permits: all.filter((p) => p.effect === 'permit').length,
        forbids: all.filter((p) => p.effect === 'forbid').length,
        needingApproval: all.filter((p) => p.requirement !== null).length,
        actions: catalog.actions().length,
        warnings: loaded.warnings,
      });
    });

  policy
    .command('explain')
    .description('for a command envelope (JSON file, or - for stdin): the policies that match, the decision, the approval requirement and why')
    .argument('<file>', 'the envelope (signature not needed; without "actor", as the example files, the actor is --actor or the home\'s admin)')
    .option('--actor <actor>', 'the actor to explain for, when the file names none (default: the home\'s admin)')
    .option('--roles <roles>', 'comma-separated roles to assume instead of asking the running server')
    .action(explainFile);

  signerOptions(
    policy
      .command('reload')
      .description("put the home's policy files in force on the running server without a restart (an admin of the home signs it; an invalid set changes nothing, exit 68)"),
  ).action(async (opts: { key?: string; keyId?: string; tenant?: string }, cmd: Command) => {
    const answer = await clientOf(globals(cmd), opts).post('/v1/policy/reload');
    print(answer.body);
    process.exitCode = exitCodeOf(answer);
  });

  policy
    .command('schema')
    .description('print the Cedar schema generated from the catalog (what policies are validated against)')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configOf(globals(cmd));
      const catalog = await toolCatalog(config.packsDir);
      process.stdout.write(cedarSchemaText(catalog) + '\n');
    });
}
