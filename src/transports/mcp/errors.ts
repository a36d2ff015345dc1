import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CODES } from '../../core/codes.js';
import { toWritError, type WritError } from '../../core/errors.js';
import { logError } from '../../util/log.js';

/** The error part of a refusal, from the one registry (src/core/codes.ts): code, MCP number, message, hint. */
export function errorView(err: WritError): Record<string, unknown> {
  return {
    code: err.code,
    mcp: CODES[err.code].mcp,
    message: err.message,
    hint: CODES[err.code].hint,
    ...(err.details ? { details: err.details } : {}),
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
  };
}

function known(err: unknown, tool: string): WritError {
  const e = toWritError(err);
  // INTERNAL hides its cause from the caller; the operator's log keeps it (never arguments or keys).
  if (e.code === 'INTERNAL') logError('MCP tool failed; answered INTERNAL', err, { tool });
  return e;
}

/**
 * A refusal as an MCP tool error (`isError: true`), so the model reads it and can correct itself:
 * `structuredContent.error` is errorView(); `extra` adds what the answer said besides (a command's
 * requestId and commandHash). The text names the code, the message and what to do next.
 */
export function toolError(err: unknown, tool: string, extra: Record<string, unknown> = {}): CallToolResult {
  const e = known(err, tool);
  const view = errorView(e);
  return {
    isError: true,
    content: [{ type: 'text', text: `${e.code}: ${e.message}\nWhat to do: ${CODES[e.code].hint}` }],
    structuredContent: { ...extra, error: view },
  };
}

/** A refusal of a request that is not a tool call (an unknown tool, resource or line) as a JSON-RPC error. */
export function rpcError(err: unknown, what: string): McpError {
  const e = known(err, what);
  return new McpError(CODES[e.code].mcp, e.message, { code: e.code, hint: CODES[e.code].hint });
}
