import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Identity } from '../../access/identity.js';
import type { Writ } from '../../writ.js';
import { injectApi } from './inject-api.js';
import { ToolRegistry } from './registry.js';
import { CatalogCache, createMcpServer } from './server.js';
import type { McpSession } from './sessions.js';
import { TOOL_GROUPS } from './tools/index.js';

/**
 * Opens the MCP server and transport of one HTTP session for `identity`; its tools call `app`'s
 * routes with the token of the request being served. Loaded on the first initialize, so a server
 * (or a CLI command) that never serves MCP does not load the SDK.
 */
export function sessionOpener(app: FastifyInstance, writ: Pick<Writ, 'config' | 'now'>): (identity: Identity) => Promise<McpSession> {
  const registry = new ToolRegistry(TOOL_GROUPS, writ.config.intake.maxBytes);
  return async (identity) => {
    const id = randomUUID();
    const catalog = new CatalogCache();
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => id, enableJsonResponse: true });
    const server = createMcpServer(registry, (token) => {
      const api = injectApi(app, token ?? '', identity, writ.now);
      return { api, actions: () => catalog.get(api) };
    });
    await server.connect(transport);
    return { id, tenant: identity.tenant, actor: identity.actor, server, transport, lastUsed: writ.now(), busy: 0 };
  };
}
