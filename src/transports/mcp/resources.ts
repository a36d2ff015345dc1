import type { ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { WritError } from '../../core/errors.js';
import { errorOf } from './api.js';
import { rpcError } from './errors.js';
import type { ToolContext } from './tool.js';

/** The resources every session lists: what can be run, and what policies can say about it. */
export const RESOURCES = [
  { uri: 'writ://catalog/actions', name: 'action-catalog', title: 'Action catalog', description: "Every catalog action with its pack, description and payload JSON Schema (GET /v1/actions); what submit accepts.", mimeType: 'application/json' },
  { uri: 'writ://policy/schema', name: 'policy-schema', title: 'Cedar policy schema', description: "The Cedar schema policies are validated against, generated from the catalog (GET /v1/policy/schema): principals, actions and each action's context facts.", mimeType: 'text/plain' },
] as const;

/** resources/read: the resource's current text, read through the session's API; an unknown URI is a JSON-RPC error. */
export async function readResource(ctx: ToolContext, uri: string): Promise<ReadResourceResult> {
  try {
    if (uri === 'writ://catalog/actions') return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ actions: await ctx.actions() }, null, 2) }] };
    if (uri === 'writ://policy/schema') {
      const answer = await ctx.api.get('/v1/policy/schema');
      if (answer.status !== 200) throw errorOf(answer);
      return { contents: [{ uri, mimeType: 'text/plain', text: String(answer.body) }] };
    }
    throw new WritError('NOT_FOUND', `no resource ${JSON.stringify(uri.slice(0, 200))}; resources/list names them`);
  } catch (err) {
    throw rpcError(err, 'resources/read');
  }
}
