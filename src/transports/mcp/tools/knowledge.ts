import { okBody, queryOf, seg } from '../api.js';
import { ARG, tenantArg, type ToolContext, type ToolDefinition } from '../tool.js';

/**
 * The knowledge pack's reads (docs/knowledge.md, "Reads"), each one GET of its HTTP route with the
 * session's credential, so who may read what is exactly what the routes (and Cedar) decide. Writes
 * need no tool of their own: `submit` runs KipCommit, Propose, Land… with the catalog's payload
 * schemas (list_actions {"pack": "knowledge"}).
 */

// The bounds mirror the pack's (src/packs/knowledge: paths ≤ 512, queries ≤ 256, log ≤ 200, hits ≤ 100).
const REF = {
  type: 'string',
  pattern: '^(canon|perspective/[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}|proposal/[A-Za-z0-9][A-Za-z0-9._-]{0,63})$',
  description: 'canon (default), perspective/<actor> or proposal/<proposalId>',
} as const;
const PATH = { type: 'string', minLength: 1, maxLength: 512, pattern: '\\.md$', description: 'an entry path relative to the knowledge tree, e.g. notes/retry-budgets.md' } as const;
const COMMIT = { type: 'string', pattern: '^[0-9a-f]{40}$', description: "a full commit id of the ref's history (kip_log)" } as const;
const PROPOSAL_ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;
const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

/** GET /v1/knowledge/{tenant}/{rest}: the route's body, or its refusal as the tool's error. */
async function knowledgeGet(ctx: ToolContext, args: { tenant?: string }, rest: string): Promise<Record<string, unknown>> {
  return okBody(await ctx.api.get(`/v1/knowledge/${seg(tenantArg(ctx, args))}/${rest}`)) as Record<string, unknown>;
}

export const knowledgeTools: readonly ToolDefinition[] = [
  {
    name: 'kip_get',
    description: "One knowledge entry (GET /v1/knowledge/{tenant}/entry): its Markdown, front matter, blob and commit, on the canon or a perspective or proposal you may read, at its head or at a commit `at` of that ref's history.",
    inputSchema: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: PATH, ref: REF, at: COMMIT, tenant: ARG.tenant } },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, `entry${queryOf({ path: args.path, ref: args.ref, at: args.at })}`) };
    },
  },
  {
    name: 'kip_log',
    description: "A ref's commits, newest first (GET /v1/knowledge/{tenant}/log): id, author, time, message; only those touching `path` when given.",
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { ref: REF, path: PATH, limit: { type: 'integer', minimum: 1, maximum: 200, description: 'commits (default 20)' }, tenant: ARG.tenant },
    },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, `log${queryOf({ ref: args.ref, path: args.path, limit: args.limit })}`) };
    },
  },
  {
    name: 'canon_seq',
    description: 'The canon\'s landing sequence number and head commit (GET /v1/knowledge/{tenant}/seq): it advances by one with every landing, so a changed seq says the shared truth moved.',
    inputSchema: { type: 'object', additionalProperties: false, properties: { tenant: ARG.tenant } },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, 'seq') };
    },
  },
  {
    name: 'search',
    description: 'Full-text search of the canon and the perspectives you may read (GET /v1/knowledge/{tenant}/search): every word must match (as a word or prefix); titles weigh most. Only on one ref with `ref`.',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['q'],
      properties: {
        q: { type: 'string', minLength: 1, maxLength: 256, description: 'search words (at most 16 are used)' },
        ref: { type: 'string', pattern: '^(canon|perspective/[A-Za-z0-9][A-Za-z0-9._:@-]{0,127})$', description: 'canon or perspective/<actor> only' },
        limit: { type: 'integer', minimum: 1, maximum: 100, description: 'hits (default 20)' },
        tenant: ARG.tenant,
      },
    },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, `search${queryOf({ q: args.q, ref: args.ref, limit: args.limit })}`) };
    },
  },
  {
    name: 'inbox',
    description: "Messages to you (GET /v1/knowledge/{tenant}/inbox), unread ones unless `all`; `to` reads another inbox when policy lets you (practitioners read `practitioner` mail). Mark one read with submit MarkRead.",
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { to: { ...ARG.actor, description: 'whose inbox (default: yours); `practitioner` for the practitioners\' shared one' }, all: { type: 'boolean', description: 'read messages too' }, tenant: ARG.tenant },
    },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, `inbox${queryOf({ to: args.to, all: args.all === true ? true : undefined })}`) };
    },
  },
  {
    name: 'knowledge_status',
    description: "The knowledge pack's overview (GET /v1/knowledge/{tenant}/status): canon seq and head, open proposals, and the perspectives you may see.",
    inputSchema: { type: 'object', additionalProperties: false, properties: { tenant: ARG.tenant } },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, 'status') };
    },
  },
  {
    name: 'proposal_preview',
    description: 'What landing a proposal now would change (GET /v1/knowledge/{tenant}/proposals/{id}/preview): changed paths, conflicts with the canon of now, whether it merges, and the seq it would land as.',
    inputSchema: { type: 'object', additionalProperties: false, required: ['proposalId'], properties: { proposalId: PROPOSAL_ID, tenant: ARG.tenant } },
    annotations: READ_ONLY,
    async handler(ctx, args) {
      return { value: await knowledgeGet(ctx, args, `proposals/${seg(args.proposalId)}/preview`) };
    },
  },
];
