import type { RunDoc } from '../../../core/runs/run-doc.js';
import { formatRunReceipt } from '../../../core/runs/run-receipt.js';
import { nextView, sealOfRun } from '../../../core/runs/run-views.js';
import { WritError } from '../../../core/errors.js';
import { errorOf, okBody, queryOf, seg } from '../api.js';
import { ARG, tenantArg, type ActionInfo, type ArgumentsSchema, type ToolContext, type ToolDefinition } from '../tool.js';
import { submitted } from './commands.js';

/**
 * The runs pack as tools (docs/runs.md), one per `writ run` command and through the same routes:
 * the writes are the pack's commands through POST /v1/commands as this session's actor (Cedar's
 * runner / run-lead / admin permits decide), the reads GET /v1/entities/{tenant}/run/{id} and the
 * receipt route with the session's credential. `writ run verify` has no tool: it checks files
 * offline, where the agent keeps them, with nothing of the server's.
 */

const RUN_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: "the run's id (the contract's id)" } as const;
const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;
const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;
const REQUEST_ID = { ...ARG.requestId, description: 'idempotency key (default: a fresh one); after a lost answer ask get_command with it' } as const;

/**
 * A tool's arguments: the action's payload schema from the catalog, plus requestId, so the tool
 * takes exactly what the pack does. Without the catalog, any payload field passes here and the
 * pipeline checks it as it checks every command.
 */
function payloadArgs(name: string): (actions: readonly ActionInfo[]) => ArgumentsSchema {
  return (actions) => {
    const payload = actions.find((a) => a.name === name)?.payload as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    if (!payload?.properties) return { type: 'object', additionalProperties: false, properties: { requestId: REQUEST_ID }, patternProperties: { '^[A-Za-z][A-Za-z0-9]{0,63}$': {} } };
    return { type: 'object', additionalProperties: false, required: payload.required ?? [], properties: { ...payload.properties, requestId: REQUEST_ID } };
  };
}

/** Runs one of the pack's commands with the tool's arguments as its payload. */
function command(action: string): ToolDefinition['handler'] {
  return async (ctx, args) => {
    const { requestId, ...payload } = args;
    return submitted(await ctx.api.submit({ action, payload, ...(requestId ? { requestId } : {}) }));
  };
}

/** The run entity (a read authorised like every read), with the log and index of its last version. */
async function readRun(ctx: ToolContext, args: { runId: string; tenant?: string }): Promise<{ tenant: string; doc: RunDoc; scroll: string; index: number }> {
  const tenant = tenantArg(ctx, args);
  const body = okBody(await ctx.api.get(`/v1/entities/${seg(tenant)}/run/${seg(args.runId)}`));
  if (body.deleted || !body.doc) throw new WritError('NOT_FOUND', `run ${args.runId} does not exist`);
  return { tenant, doc: body.doc as RunDoc, scroll: body.scroll as string, index: body.index as number };
}

const READ_ARGS: ArgumentsSchema = { type: 'object', additionalProperties: false, required: ['runId'], properties: { runId: RUN_ID, tenant: ARG.tenant } };

export const runTools: readonly ToolDefinition[] = [
  {
    name: 'run_start',
    description: "Start a run of a contract (StartRun, as `writ run start`): id, domain, title, severity, ordered stages (skill, workflow, role, objective); see examples/run-contract.json. Runners, run leads and admins may.",
    inputSchema: (actions) => ({
      type: 'object',
      additionalProperties: false,
      required: ['contract'],
      properties: { contract: actions.find((a) => a.name === 'StartRun')?.payload ?? { type: 'object' }, requestId: REQUEST_ID },
    }),
    annotations: WRITE,
    async handler(ctx, args) {
      return submitted(await ctx.api.submit({ action: 'StartRun', payload: args.contract, ...(args.requestId ? { requestId: args.requestId } : {}) }));
    },
  },
  {
    name: 'run_next',
    description: 'The next stage of a run to do (its contract entry and position), or why there is none (as `writ run next`).',
    inputSchema: READ_ARGS,
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: nextView((await readRun(ctx, args as { runId: string })).doc) };
    },
  },
  {
    name: 'run_complete_stage',
    description: "Record a stage's outcome and its outputs manifest (CompleteStage, as `writ run complete`): each output's name, size and SHA-256 (hex); the files stay with you. In contract order unless the contract's stageOrder is any.",
    inputSchema: payloadArgs('CompleteStage'),
    annotations: WRITE,
    handler: command('CompleteStage'),
  },
  {
    name: 'run_abort',
    description: 'End a run early with a reason (AbortRun, as `writ run abort`); it can still be sealed.',
    inputSchema: payloadArgs('AbortRun'),
    annotations: { ...WRITE, destructiveHint: true },
    handler: command('AbortRun'),
  },
  {
    name: 'run_seal',
    description: "Seal a completed or aborted run (SealRun, as `writ run seal`): its contract, state and manifests hashed into one root in its log runs-<domain>. Run leads and admins only.",
    inputSchema: payloadArgs('SealRun'),
    annotations: { ...WRITE, destructiveHint: true },
    handler: command('SealRun'),
  },
  {
    name: 'run_show',
    description: 'A run (GET /v1/entities/{tenant}/run/{id}, as `writ run show`): its contract, status, stages and manifests, and the record of its last version.',
    inputSchema: READ_ARGS,
    annotations: READ_ONLY,
    async handler(ctx, args) {
      const { doc, scroll, index } = await readRun(ctx, args as { runId: string });
      return { value: { ...doc, record: { scroll, index } } };
    },
  },
  {
    name: 'run_receipt',
    description: "The run receipt of a sealed run (as `writ run receipt`): its seal document and the C2SP tlog-proof of its SealRun record, as text; `writ run verify <folder> --receipt <file> --vkey <key>` checks the outputs against it offline.",
    inputSchema: { type: 'object', additionalProperties: false, required: ['runId'], properties: { runId: RUN_ID, wait: { type: 'boolean', description: 'wait for a checkpoint to cover the seal (default true)' }, tenant: ARG.tenant } },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      const { tenant, doc, scroll, index } = await readRun(ctx, args as { runId: string });
      const seal = sealOfRun(tenant, doc);
      const answer = await ctx.api.get(`/v1/logs/${seg(tenant)}/${seg(scroll)}/receipts/${index}${queryOf({ wait: args.wait !== false })}`);
      if (answer.status !== 200) throw errorOf(answer);
      const receipt = formatRunReceipt(seal, answer.body as string);
      return { value: { run: doc.id, log: scroll, index, receipt }, text: receipt };
    },
  },
];
