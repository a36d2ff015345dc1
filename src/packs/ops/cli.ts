import type { Command } from 'commander';
import type { PackCli, PackCliContext } from '../../catalog/pack-cli.js';
import { CODES, isCode } from '../../core/codes.js';
import type { WritClient } from '../../sdk/client.js';
import { newNonce, signEnvelope } from '../../sdk/sign.js';
import { auditStanding, registerOpsAuditCommands } from './cli-audit.js';
import { opsReport, type OpView } from './cli-report.js';

interface AsOptions {
  key?: string;
  keyId?: string;
  tenant?: string;
}

const PAGE = 500;
/** `writ ops list|status` read at most this many ops (a page at a time). */
const MAX_OPS = 20_000;

/** Signs an ops command and sends it through the server, like every CLI command that writes. */
async function submit(ctx: PackCliContext, cmd: Command, opts: AsOptions, action: string, payload: Record<string, unknown>): Promise<void> {
  const tenant = opts.tenant ?? ctx.config(cmd).tenant;
  const { envelope } = signEnvelope({ action, tenant, payload }, ctx.signer(cmd, opts));
  const answer = await ctx.client(cmd, { ...opts, tenant }).submit(envelope);
  ctx.print(answer.status === 202 ? { ...ctx.heldReport(`${action} ${String(payload.id)}`, answer), op: payload.id } : answer.body);
  process.exitCode = ctx.exitCodeOf(answer);
}

/** `--param k=v` (repeatable): the value is JSON when it parses as JSON (numbers), else a string. */
function collectParam(ctx: PackCliContext, value: string, acc: Record<string, unknown>): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq < 1) ctx.fail(`--param ${JSON.stringify(value)}: write it as name=value`, 2);
  const raw = value.slice(eq + 1);
  let v: unknown = raw;
  try {
    v = JSON.parse(raw);
  } catch {
    /* a string */
  }
  return { ...acc, [value.slice(0, eq)]: v };
}

function fail(ctx: PackCliContext, answer: { status: number; body: any }, what: string): never {
  const code = answer.body?.code;
  ctx.fail(typeof answer.body?.message === 'string' ? answer.body.message : `cannot read ${what}`, isCode(code) ? CODES[code].exit : 1);
}

/** Every op of the tenant, through the entity list route (a signed read, authorised like every read). */
async function allOps(ctx: PackCliContext, client: WritClient, tenant: string): Promise<OpView[]> {
  const out: OpView[] = [];
  let after: string | null = null;
  do {
    const q: string = `?limit=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const page = await client.get(`/v1/entities/${encodeURIComponent(tenant)}/op${q}`);
    if (page.status !== 200) fail(ctx, page, 'the ops');
    for (const row of page.body.items as Array<{ doc: any; deleted: boolean; version: number }>) if (!row.deleted && row.doc) out.push({ ...row.doc, version: row.version });
    after = page.body.next ?? null;
  } while (after && out.length < MAX_OPS);
  return out;
}

/** Ops held for approval: pending approvals of SubmitOp and RollbackOp. */
async function heldOps(ctx: PackCliContext, client: WritClient, tenant: string): Promise<Array<Record<string, unknown>>> {
  const page = await client.get(`/v1/approvals?tenant=${encodeURIComponent(tenant)}&status=pending&limit=${PAGE}`);
  if (page.status !== 200) fail(ctx, page, 'the approvals');
  return (page.body.items as Array<Record<string, any>>)
    .filter((a) => a.action === 'SubmitOp' || a.action === 'RollbackOp')
    .map((a) => ({ approvalId: a.id, action: a.action, op: String(a.target).replace(/^op\//, ''), requestedBy: a.requester ?? null, expiresAt: a.deadlines?.expiresAt ?? null }));
}

/** `writ ops submit|rollback|show|list|status|audit verify` (docs/ops.md). */
function register(ops: Command, ctx: PackCliContext): void {
  const as = (c: Command) => ctx.signerOptions(c);
  const print = (v: unknown) => ctx.print(v);
  const reader = (cmd: Command, opts: AsOptions) => {
    const tenant = opts.tenant ?? ctx.config(cmd).tenant;
    return { client: ctx.client(cmd, { ...opts, tenant }), tenant };
  };

  as(ops.command('submit'))
    .description('submit an op (deploy, scale, restart, secret_update, drain); policy runs it at once or holds it for approvers')
    .argument('<kind>')
    .argument('<workspace>')
    .argument('<resource>')
    .option('--param <name=value>', "a parameter of the kind (repeatable; JSON values such as numbers are parsed)", (v: string, acc: Record<string, unknown>) => collectParam(ctx, v, acc), {})
    .option('--id <id>', 'the op id (default: <kind>-<a fresh UUIDv7>)')
    .option('--target-version <n>', "the resource's version the op expects (op-target entity)", (v) => Number(v))
    .option('--reason <text>', 'why (kept in the ledger)')
    .action((kind: string, workspace: string, resource: string, opts: AsOptions & { param: Record<string, unknown>; id?: string; targetVersion?: number; reason?: string }, cmd: Command) =>
      submit(ctx, cmd, opts, 'SubmitOp', {
        id: opts.id ?? `${kind.replace(/[^a-z0-9_]/g, '')}-${newNonce()}`,
        kind,
        workspace,
        resource,
        parameters: opts.param,
        ...(opts.targetVersion !== undefined ? { targetVersion: opts.targetVersion } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      }),
    );

  as(ops.command('rollback'))
    .description("roll back a succeeded op: a new op that runs its executor's inverse; both ops name each other")
    .argument('<opId>')
    .option('--id <id>', 'the rollback op id (default: rollback-<a fresh UUIDv7>)')
    .option('--reason <text>', 'why (kept in the ledger)')
    .action((opId: string, opts: AsOptions & { id?: string; reason?: string }, cmd: Command) => submit(ctx, cmd, opts, 'RollbackOp', { id: opts.id ?? `rollback-${newNonce()}`, undoes: opId, ...(opts.reason ? { reason: opts.reason } : {}) }));

  as(ops.command('show'))
    .description('one op: its state, attempts, results (digests, exit status, duration), lost attempts and lineage')
    .argument('<opId>')
    .action(async (opId: string, opts: AsOptions, cmd: Command) => {
      const { client, tenant } = reader(cmd, opts);
      const answer = await client.get(`/v1/entities/${encodeURIComponent(tenant)}/op/${encodeURIComponent(opId)}`);
      if (answer.status !== 200) fail(ctx, answer, `op ${opId}`);
      print({ ...answer.body.doc, version: answer.body.version, log: answer.body.scroll, index: answer.body.index });
    });

  as(ops.command('list'))
    .description('the ops of the tenant, one line each (--status to filter)')
    .option('--status <status>', 'pending, running, succeeded or failed')
    .action(async (opts: AsOptions & { status?: string }, cmd: Command) => {
      const { client, tenant } = reader(cmd, opts);
      const list = (await allOps(ctx, client, tenant)).filter((o) => !opts.status || o.status === opts.status);
      print(list.map((o) => ({ op: o.id, kind: o.kind, workspace: o.workspace, resource: o.resource, status: o.status, attempts: o.attempts, submittedAt: o.submittedAt, rollbackOf: o.rollbackOf, rolledBackBy: o.rolledBackBy })));
    });

  as(ops.command('status'))
    .description('what needs attention: ops held for approval, running, overdue (past their deadline without a result), lost attempts, failed')
    .action(async (opts: AsOptions, cmd: Command) => {
      const { client, tenant } = reader(cmd, opts);
      const report = opsReport(tenant, await allOps(ctx, client, tenant), await heldOps(ctx, client, tenant), Date.now());
      print({ ...report, auditMirror: await auditStanding(ctx, cmd, tenant) });
      for (const o of report.overdue) process.stderr.write(`writ: op ${o.op} is running attempt ${o.attempt} past its deadline ${o.deadline} with no result; the effector will ${o.next}\n`);
    });

  registerOpsAuditCommands(ops, ctx);
}

/** `writ ops …`, contributed through the pack CLI API (PackModule.cli). */
export const opsCli: PackCli = { description: 'operations on the world: submit, roll back, and follow ops the effector runs', register };
