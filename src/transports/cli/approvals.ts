import type { Command } from 'commander';
import { APPROVAL_STATUSES } from '../../approvals/pending.js';
import { signEnvelope } from '../../sdk/sign.js';
import type { HttpAnswer, WritClient } from '../../sdk/client.js';
import { CliError, clientOf, configOf, exitCodeOf, globals, print, signerOf, type GlobalOptions } from './context.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
  hash?: string;
}

function tenantOf(opts: { tenant?: string }, g: GlobalOptions): string {
  return opts.tenant ?? configOf(g).tenant;
}

async function show(client: WritClient, tenant: string, id: string): Promise<HttpAnswer> {
  return client.get(`/v1/approvals/${encodeURIComponent(id)}?tenant=${encodeURIComponent(tenant)}`);
}

/**
 * The commandHash a decision binds to: the pending command's, read from the server, which --hash
 * (the hash or a prefix of at least 8 hex digits, as `writ approvals show` printed it) must match,
 * so that what is decided is what the approver reviewed.
 */
async function boundHash(client: WritClient, tenant: string, id: string, expected: string | undefined): Promise<string> {
  const answer = await show(client, tenant, id);
  if (answer.status !== 200) throw new CliError(`approval ${id}: ${answer.body?.code ?? answer.status} ${answer.body?.message ?? ''}`.trim(), exitCodeOf(answer) || 1);
  const hash = answer.body.commandHash as string;
  if (expected !== undefined) {
    if (!/^[0-9a-f]{8,64}$/.test(expected)) throw new CliError('--hash must be the commandHash or a prefix of it (8 to 64 lowercase hex digits)', 2);
    if (!hash.startsWith(expected)) throw new CliError(`approval ${id} holds the command ${hash}, not ${expected}; review it again (writ approvals show ${id})`, 2);
  }
  return hash;
}

async function decide(cmd: Command, id: string, opts: AsOptions, action: string, extra: Record<string, unknown>): Promise<void> {
  const g = globals(cmd);
  const tenant = tenantOf(opts, g);
  const client = clientOf(g, opts);
  const commandHash = await boundHash(client, tenant, id, opts.hash);
  const { envelope } = signEnvelope({ action, tenant, payload: { approvalId: id, commandHash, ...extra } }, signerOf(opts, g));
  const answer = await client.submit(envelope);
  print(answer.body);
  process.exitCode = exitCodeOf(answer);
}

export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('commands held for approval: list, show, approve, reject (signed writ.Approve / writ.Reject)');
  const as = (c: Command) =>
    c
      .option('--key <file>', "private key that signs (default: the home's admin key)")
      .option('--key-id <id>', 'key id of --key')
      .option('--tenant <tenant>', 'tenant (default from config)')
      .option('--hash <hex>', 'the commandHash (or a prefix of 8+ hex digits) you reviewed; refused if the pending command has another');

  approvals
    .command('list')
    .description("list the tenant's approvals (oldest first)")
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--status <status>', `only those with this status: ${APPROVAL_STATUSES.join(', ')}`)
    .option('--key <file>', "private key that signs the reads (default: the home's admin key)")
    .option('--key-id <id>', 'key id of --key')
    .action(async (opts: { tenant?: string; status?: string; key?: string; keyId?: string }, cmd: Command) => {
      const g = globals(cmd);
      const tenant = tenantOf(opts, g);
      if (opts.status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(opts.status)) throw new CliError(`--status must be one of ${APPROVAL_STATUSES.join(', ')}`, 2);
      const client = clientOf(g, opts);
      const items: unknown[] = [];
      let after: string | null = null;
      do {
        const query: string = `tenant=${encodeURIComponent(tenant)}&limit=1000${opts.status ? `&status=${opts.status}` : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
        const page = await client.get(`/v1/approvals?${query}`);
        if (page.status !== 200) throw new CliError(`listing approvals: ${page.body?.code ?? page.status} ${page.body?.message ?? ''}`.trim(), exitCodeOf(page) || 1);
        items.push(...page.body.items);
        after = page.body.next;
      } while (after);
      print(items);
    });

  approvals
    .command('show')
    .description('one approval: the command, a preview of its effect now, the decisions so far, its deadline')
    .argument('<approvalId>')
    .option('--tenant <tenant>', 'tenant (default from config)')
    .option('--key <file>', "private key that signs the read: an approver sees the command it decides on (default: the home's admin key)")
    .option('--key-id <id>', 'key id of --key')
    .action(async (id: string, opts: { tenant?: string; key?: string; keyId?: string }, cmd: Command) => {
      const g = globals(cmd);
      const answer = await show(clientOf(g, opts), tenantOf(opts, g), id);
      print(answer.body);
      process.exitCode = answer.status === 200 ? 0 : exitCodeOf(answer);
    });

  as(approvals.command('approve'))
    .description('approve the pending command (writ.Approve, bound to its commandHash)')
    .argument('<approvalId>')
    .action((id: string, opts: AsOptions, cmd: Command) => decide(cmd, id, opts, 'writ.Approve', {}));

  as(approvals.command('reject'))
    .description('reject the pending command, or withdraw your own (writ.Reject)')
    .argument('<approvalId>')
    .requiredOption('--reason <text>', 'why (recorded in the ledger and given to the requester)')
    .action((id: string, opts: AsOptions & { reason: string }, cmd: Command) => decide(cmd, id, opts, 'writ.Reject', { reason: opts.reason }));

  as(approvals.command('break-glass'))
    .description('run the pending command at once (writ.BreakGlass, role breakglass); opens a review')
    .argument('<approvalId>')
    .requiredOption('--reason <text>', 'why it cannot wait (recorded, and in the review)')
    .action((id: string, opts: AsOptions & { reason: string }, cmd: Command) => decide(cmd, id, opts, 'writ.BreakGlass', { reason: opts.reason }));
}
