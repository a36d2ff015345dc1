import { header } from '../http/openapi-schemas.js';

const answer = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Answer' } } } });
/** A JSON-RPC 2.0 message (MCP), or writ's answer shape for what is refused before MCP sees the request. */
const JSON_RPC = {
  type: 'object',
  required: ['jsonrpc'],
  properties: { jsonrpc: { const: '2.0' }, id: { type: ['string', 'integer', 'null'] }, result: { type: 'object' }, error: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, data: {} } } },
};
const rpc = (description: string) => ({ description, content: { 'application/json': { schema: JSON_RPC } } });
const either = (description: string) => ({ description, content: { 'application/json': { schema: { anyOf: [{ $ref: '#/components/schemas/Answer' }, JSON_RPC] } } } });
const SESSION = { name: 'Mcp-Session-Id', in: 'header', required: false, description: 'the session initialize opened (absent only on initialize)', schema: { type: 'string' } };

/** /mcp (docs/mcp.md) and GET /v1/policy/schema, the policy schema the MCP resource reads. */
export function mcpPaths(): Record<string, unknown> {
  return {
    '/mcp': {
      post: {
        summary: 'MCP Streamable HTTP: one JSON-RPC message (initialize opens a session bound to the bearer identity)',
        parameters: [SESSION],
        requestBody: { required: true, content: { 'application/json': { schema: JSON_RPC } } },
        responses: {
          '200': { ...rpc('The JSON-RPC response (never an event stream); initialize answers with Mcp-Session-Id'), headers: { 'Mcp-Session-Id': { schema: { type: 'string' } } } },
          '202': { description: 'Notifications or responses only: accepted' },
          '400': either('INVALID_ENVELOPE (not strict JSON, or no session and not initialize), or a JSON-RPC error from the MCP transport'),
          '404': either('NOT_FOUND: no session with this id for this identity'),
          '406': rpc('Accept must list application/json and text/event-stream'),
          '413': answer('PAYLOAD_TOO_LARGE: over intake.maxBytes plus 16 KiB of JSON-RPC framing'),
          '415': rpc('Content-Type must be application/json'),
          '503': { ...answer('UNAVAILABLE: every session place is taken (mcp.maxSessions), or writ is shutting down'), headers: { 'Retry-After': header('RetryAfter') } },
        },
      },
      delete: { summary: 'End an MCP session', parameters: [SESSION], responses: { '200': { description: 'Ended' }, '400': either('No session header'), '404': either('NOT_FOUND: no such session for this identity') } },
      get: { summary: 'Not offered: writ sends no server-initiated MCP messages', responses: { '405': { description: 'Method not allowed (Allow: POST, DELETE)' } } },
    },
    '/v1/policy/schema': {
      get: { summary: 'The Cedar schema policies are validated against, generated from the catalog', responses: { '200': { description: 'Cedar schema (human-readable form)', content: { 'text/plain': { schema: { type: 'string' } } } } } },
    },
  };
}
