import { PATTERNS } from '../../../core/envelope.js';
import { errorOf, queryOf, seg, type ApiAnswer } from '../api.js';
import { ARG, tenantArg, type ActionInfo, type ArgumentsSchema, type ToolDefinition, type ToolOutput } from '../tool.js';

/** submit's arguments: the action named from the catalog; the payload is checked by the pipeline against the action's schema. */
function submitSchema(actions: readonly ActionInfo[]): ArgumentsSchema {
  const action = actions.length > 0
    ? { type: 'string', enum: actions.map((a) => a.name), description: 'the catalog action to run (list_actions gives each one\'s payload schema)' }
    : { type: 'string', pattern: PATTERNS.action.source, maxLength: 128, description: 'the catalog action to run (the catalog could not be read just now; list_actions names them)' };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['action', 'payload'],
    properties: {
      action,
      payload: { type: 'object', description: "the action's payload; it must match the action's JSON Schema (list_actions), else INVALID_PAYLOAD with details.errors" },
      requestId: { ...ARG.requestId, description: 'idempotency key (default: a fresh one). When an answer is lost, ask get_command with this requestId: a second submit with it is a new envelope, refused IDEMPOTENCY_KEY_REUSED, so nothing runs twice' },
      expectedVersion: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: "the target entity's current version (0: must not exist yet); VERSION_CONFLICT otherwise" },
      target: { type: 'string', pattern: PATTERNS.target.source, maxLength: 513, description: '<type>/<id> of the entity acted on; derived from the payload when absent' },
    },
  };
}

/** What an agent is told of a command held for approval: the approval, who must act, and how to follow it. */
function held(answer: Record<string, any>): ToolOutput {
  const approval = (answer.approval ?? {}) as { id?: string; requirement?: unknown; expiresAt?: string };
  const id = approval.id ?? '<approval id>';
  const value = {
    ...answer,
    next: {
      human: `A human approver (the roles in approval.requirement) must decide: \`writ approvals show ${id}\`, then \`writ approvals approve ${id}\` or \`writ approvals reject ${id}\` (or the writ.Approve / writ.Reject commands).`,
      agent: `You cannot approve it yourself (writ.Approve by the requester is refused SELF_APPROVAL). Follow it with get_command {"requestId": "${String(answer.requestId)}"} or list_approvals; it runs once approved, before ${approval.expiresAt ?? 'its deadline'}.`,
    },
  };
  return { value, text: `PENDING_APPROVAL: held under approval ${id} until ${approval.expiresAt ?? 'its deadline'}.\n${value.next.human}\n${value.next.agent}\n\n${JSON.stringify(answer, null, 2)}` };
}

/** A refused command: its code as a tool error, with the requestId and commandHash the answer gave. */
function refused(answer: ApiAnswer): never {
  const err = errorOf(answer);
  const body = (answer.body ?? {}) as Record<string, unknown>;
  throw Object.assign(err, { answer: { status: body.status ?? 'ERROR', requestId: body.requestId ?? null, commandHash: body.commandHash ?? null } });
}

/** A submitted command's answer as a tool's: OK's body, PENDING_APPROVAL explained, a refusal as the tool's error. */
export function submitted(answer: ApiAnswer): ToolOutput {
  if (answer.status === 202) return held(answer.body as Record<string, any>);
  if (answer.status >= 400) refused(answer);
  return { value: answer.body as Record<string, unknown> };
}

export const commandTools: readonly ToolDefinition[] = [
  {
    name: 'submit',
    description:
      'Run a catalog action as this session\'s actor: the command goes through writ\'s pipeline (authentication, freshness, idempotency, limits, payload schema, Cedar policy, approval) and is recorded in the ledger. ' +
      'Answers OK with the result and receipt, PENDING_APPROVAL when policy holds it for a human (you cannot approve it yourself), or a tool error with the refusal\'s code and what to do next.',
    inputSchema: submitSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    async handler(ctx, args) {
      return submitted(await ctx.api.submit(args));
    },
  },
  {
    name: 'get_command',
    description: "A command's stored answer by its requestId (as GET /v1/commands/{tenant}/{requestId}): your own commands', or any for admins and auditors; httpStatus is the status it was answered with.",
    inputSchema: { type: 'object', additionalProperties: false, required: ['requestId'], properties: { requestId: ARG.requestId, tenant: ARG.tenant, actor: { ...ARG.actor, description: 'the actor, when several used the requestId' } } },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      const answer = await ctx.api.get(`/v1/commands/${seg(tenantArg(ctx, args))}/${seg(args.requestId)}${queryOf({ actor: args.actor })}`);
      if (answer.status >= 400) throw errorOf(answer);
      return { value: { httpStatus: Number(answer.header('writ-command-status') ?? 200), answer: answer.body } };
    },
  },
];
