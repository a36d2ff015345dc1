import { APPROVAL_STATUSES } from '../../../approvals/pending.js';
import { okBody, queryOf, seg } from '../api.js';
import { ARG, tenantArg, type ToolDefinition } from '../tool.js';

/** Catalog and entity reads, each the HTTP route of the same name with the session's credential. */
export const readTools: readonly ToolDefinition[] = [
  {
    name: 'list_actions',
    description: "The action catalog (GET /v1/actions): each action's name, pack, description and payload JSON Schema; what submit accepts.",
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { pack: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'only this pack' }, action: { type: 'string', maxLength: 128, description: 'only this action' } },
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      const actions = (await ctx.actions()).filter((a) => (args.pack === undefined || a.pack === args.pack) && (args.action === undefined || a.name === args.action));
      return { value: { actions } };
    },
  },
  {
    name: 'get_entity',
    description: 'One entity (GET /v1/entities/{tenant}/{type}/{id}): its current version, or with `at` the version as of that index of its scroll\'s ledger. Keys, actors and approvals only as policy shows them to you.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['type', 'id'], properties: { type: ARG.type, id: ARG.id, at: { ...ARG.index, description: 'a ledger index of the scroll writing this type: the version as of that record' }, tenant: ARG.tenant } },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      return { value: okBody(await ctx.api.get(`/v1/entities/${seg(tenantArg(ctx, args))}/${seg(args.type)}/${seg(args.id)}${queryOf({ at: args.at })}`)) };
    },
  },
  {
    name: 'list_entities',
    description: 'Entities of one type, by id (GET /v1/entities/{tenant}/{type}); pass `next` back as `after` for the next page.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: ARG.type, after: { type: 'string', maxLength: 448, description: "the previous page's next" }, limit: ARG.limit, tenant: ARG.tenant } },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      return { value: okBody(await ctx.api.get(`/v1/entities/${seg(tenantArg(ctx, args))}/${seg(args.type)}${queryOf({ after: args.after, limit: args.limit })}`)) };
    },
  },
  {
    name: 'list_approvals',
    description: "Commands held for approval in a tenant (GET /v1/approvals): id, action, requester, requirement, decisions, status and deadline; the command itself only as policy shows it to you.",
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { status: { enum: [...APPROVAL_STATUSES], description: 'only approvals in this state' }, after: { type: 'string', maxLength: 128 }, limit: ARG.limit, tenant: ARG.tenant },
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    async handler(ctx, args) {
      return { value: okBody(await ctx.api.get(`/v1/approvals${queryOf({ tenant: tenantArg(ctx, args), status: args.status, after: args.after, limit: args.limit })}`)) };
    },
  },
];
