import type { Command } from 'commander';
import { isInitialised } from '../../home/init.js';
import { signEnvelope } from '../../sdk/sign.js';
import { CliError, clientOf, configOf, exitCodeOf, globals, print, readJsonInput, signerOf, type GlobalOptions } from './context.js';

function tenantOf(opts: { tenant?: string }, cmd: Command): string {
  return opts.tenant ?? configOf(globals(cmd)).tenant;
}

/** `writ submit --nats`: publishes on `<subjectPrefix>.<tenant>` and waits for the answer on its own inbox. */
async function submitOverNats(url: string, envelope: Record<string, unknown>, opts: { tenant?: string; bearer?: string; timeout: string }, g: GlobalOptions): Promise<{ status: number; body: unknown }> {
  const timeoutMs = Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new CliError('--timeout must be a positive number of milliseconds', 2);
  const home = isInitialised(g.home) ? configOf(g) : undefined;
  const tenant = (envelope.tenant as string | undefined) ?? opts.tenant ?? home?.tenant;
  if (!tenant) throw new CliError('the envelope names no tenant; add --tenant (the subject is <subjectPrefix>.<tenant>)', 2);
  // Loaded only for --nats, so other commands do not load the NATS client.
  const { NatsCommandClient } = await import('../nats/client.js');
  let client;
  try {
    client = await NatsCommandClient.connect(url, home ? { subjectPrefix: home.nats.subjectPrefix } : {});
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
  try {
    const a = await client.submit(tenant, JSON.stringify(envelope), { ...(opts.bearer ? { bearer: opts.bearer } : {}), timeoutMs });
    return { status: a.status, body: a.body };
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  } finally {
    await client.close();
  }
}

export function registerCommandCommands(program: Command): void {
  program
    .command('sign')
    .description('complete (v, requestId, nonce, timestamp, actor, tenant when absent) and sign an envelope; prints it')
    .argument('[file]', 'envelope JSON file, or - for standard input', '-')
    .requiredOption('--key <file>', 'PKCS#8 PEM private key')
    .requiredOption('--key-id <id>', 'the key id it was registered under')
    .option('--tenant <tenant>', 'tenant, when the envelope has none')
    .action(async (file: string, opts: { key: string; keyId: string; tenant?: string }, cmd: Command) => {
      const input = await readJsonInput(file);
      const g = globals(cmd);
      // "tenant when absent": from --tenant, else from the home when there is one (signing needs no home).
      const tenant = opts.tenant ?? (isInitialised(g.home) ? configOf(g).tenant : undefined);
      const { envelope } = signEnvelope(input, signerOf(opts, g), { tenant });
      process.stdout.write(JSON.stringify(envelope) + '\n');
    });

  program
    .command('submit')
    .description('sign (unless already signed and no key is given) and submit an envelope; exits with the registry\'s exit code')
    .argument('[file]', 'envelope JSON file, or - for standard input', '-')
    .option('--key <file>', 'PKCS#8 PEM private key (default: the home\'s admin key)')
    .option('--key-id <id>', 'key id of --key')
    .option('--tenant <tenant>', 'tenant, when the envelope has none (default from config)')
    .option('--bearer <token>', 'send a bearer token instead of signing')
    .option('--nats <url>', 'publish to the NATS command intake of `writ serve --nats` and wait for the answer, instead of HTTP')
    .option('--timeout <ms>', 'with --nats: how long to wait for the answer', '30000')
    .action(async (file: string, opts: { key?: string; keyId?: string; tenant?: string; bearer?: string; nats?: string; timeout: string }, cmd: Command) => {
      const g = globals(cmd);
      const input = await readJsonInput(file);
      let envelope: Record<string, unknown> = input;
      if (!opts.bearer && (opts.key || !input.signature)) {
        const tenant = opts.tenant ?? (input.tenant as string | undefined) ?? configOf(g).tenant;
        envelope = signEnvelope(input, signerOf(opts, g), { tenant }).envelope as unknown as Record<string, unknown>;
      }
      const answer = opts.nats ? await submitOverNats(opts.nats, envelope, opts, g) : await clientOf(g).submit(envelope, opts.bearer);
      print(answer.body);
      process.exitCode = exitCodeOf(answer);
    });

  program
    .command('status')
    .description("a command's stored outcome")
    .argument('<requestId>')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--actor <actor>', 'the actor, when several used the requestId')
    .action(async (requestId: string, opts: { tenant?: string; actor?: string }, cmd: Command) => {
      const g = globals(cmd);
      const answer = await clientOf(g, opts).get(`/v1/commands/${encodeURIComponent(tenantOf(opts, cmd))}/${encodeURIComponent(requestId)}${opts.actor ? `?actor=${encodeURIComponent(opts.actor)}` : ''}`);
      print(answer.body);
      process.exitCode = answer.status === 200 ? 0 : exitCodeOf(answer);
    });

  program
    .command('get')
    .description('GET any route of the server, signed with your key, and print the answer (e.g. writ get /v1/entities/default/product/sku-1)')
    .argument('<path>', 'the path and query, starting with /')
    .option('--key <file>', "private key that signs the read (default: the home's admin key)")
    .option('--key-id <id>', 'key id of --key')
    .option('--tenant <tenant>', 'tenant your key is registered in (default from config)')
    .action(async (path: string, opts: { key?: string; keyId?: string; tenant?: string }, cmd: Command) => {
      if (!path.startsWith('/')) throw new CliError(`the path must start with / (e.g. /v1/entities/default/product/sku-1), got ${JSON.stringify(path)}`, 2);
      const answer = await clientOf(globals(cmd), opts).get(path);
      if (typeof answer.body === 'string') process.stdout.write(answer.body.endsWith('\n') ? answer.body : `${answer.body}\n`);
      else print(answer.body);
      process.exitCode = answer.status < 400 ? 0 : exitCodeOf(answer);
    });

  const ledger = program.command('ledger').description('read the ledger');
  ledger
    .command('tail')
    .description('print the last records of a log as JSON lines')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--scroll <scroll>', 'which log; default: every log of the tenant')
    .option('-n, --lines <n>', 'how many records per log', '10')
    .action(async (opts: { tenant?: string; scroll?: string; lines: string }, cmd: Command) => {
      const g = globals(cmd);
      const tenant = tenantOf(opts, cmd);
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new CliError('--lines must be 1..1000', 2);
      const client = clientOf(g, opts);
      // The list of logs is public (GET /v1/logs); the records are the tenant's.
      const list = await client.get('/v1/logs');
      if (list.status !== 200) throw new CliError(`cannot read /v1/logs: ${list.status}`, 1);
      const logs = (list.body.logs as Array<{ tenant: string; scroll: string; size: number }>).filter((l) => l.tenant === tenant && (!opts.scroll || l.scroll === opts.scroll));
      if (logs.length === 0) throw new CliError(`no log${opts.scroll ? ` ${opts.scroll}` : 's'} in tenant ${tenant} yet`, 40);
      for (const log of logs) {
        const from = Math.max(0, log.size - n);
        const page = await client.get(`/v1/ledger/${encodeURIComponent(tenant)}/${log.scroll}/records?from=${from}&limit=${n}`);
        if (page.status !== 200) throw new CliError(`reading ${tenant}/${log.scroll}: ${page.body?.code ?? page.status} ${page.body?.message ?? ''}`.trim(), exitCodeOf(page) || 1);
        for (const r of page.body.records) process.stdout.write(JSON.stringify({ log: page.body.log, leafHash: r.leafHash, ...r.record }) + '\n');
      }
    });
}
