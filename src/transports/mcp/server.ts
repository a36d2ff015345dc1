import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { packageRoot } from '../../util/package-root.js';
import { okBody, type WritApi } from './api.js';
import { readResource, RESOURCES } from './resources.js';
import type { ToolRegistry } from './registry.js';
import type { ActionInfo, ToolContext } from './tool.js';

/** What the model is told when a session starts (MCP `instructions`). */
const INSTRUCTIONS = [
  'writ is a governed command ledger: every change is a signed command that policy decides and the ledger records.',
  'Use list_actions to see what you may run, submit to run an action (as your own identity, never a human\'s), and the read tools to look at state, stored answers, approvals and the ledger.',
  'A command policy holds for approval answers PENDING_APPROVAL: a human must approve it; you cannot. Refusals are tool errors carrying a code and what to do next.',
].join(' ');

let version: string | undefined;
function writVersion(): string {
  version ??= String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0');
  return version;
}

/** The action catalog of the server an API talks to, read once (a failed read is tried again next time). */
export class CatalogCache {
  private kept: Promise<readonly ActionInfo[]> | undefined;

  get(api: WritApi): Promise<readonly ActionInfo[]> {
    this.kept ??= api.get('/v1/actions').then(
      (a) => (okBody(a) as { actions: ActionInfo[] }).actions.map((x) => ({ name: x.name, pack: x.pack, ...(x.description ? { description: x.description } : {}), payload: x.payload })),
      (err: unknown) => {
        this.kept = undefined;
        throw err;
      },
    );
    return this.kept;
  }
}

/**
 * One MCP server (one session): the registry's tools, and the action catalog and the policy schema
 * as resources. `contextOf` gives each request the API of its caller: over HTTP the request's own
 * bearer token, so a session never acts on an older or another credential.
 */
export function createMcpServer(registry: ToolRegistry, contextOf: (authToken: string | undefined) => ToolContext): Server {
  const server = new Server({ name: 'writ', version: writVersion() }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    const ctx = contextOf(extra.authInfo?.token);
    return { tools: registry.list(await ctx.actions().catch(() => [])) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => registry.call(request.params.name, request.params.arguments, contextOf(extra.authInfo?.token)));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES.map((r) => ({ ...r })) }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => readResource(contextOf(extra.authInfo?.token), request.params.uri));
  return server;
}
