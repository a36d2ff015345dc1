import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { WritError } from '../../core/errors.js';
import type { WritApi } from './api.js';
import { BoundedLines } from './bounded-lines.js';
import { rpcError } from './errors.js';
import { MCP_FRAMING_BYTES } from './limits.js';
import { ToolRegistry } from './registry.js';
import { CatalogCache, createMcpServer } from './server.js';
import { TOOL_GROUPS } from './tools/index.js';

export interface StdioOptions {
  /** Largest tool arguments accepted (the server's intake.maxBytes); a line may add the JSON-RPC framing. */
  readonly maxArgumentBytes: number;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
}

/**
 * Serves MCP over stdio (`writ mcp`) until standard input ends: one session, whose every tool acts
 * through `api` (the agent's key, against the running server). Resolves once the session is closed.
 */
export async function serveStdio(api: WritApi, options: StdioOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const registry = new ToolRegistry(TOOL_GROUPS, options.maxArgumentBytes);
  const catalog = new CatalogCache();
  const ctx = { api, actions: () => catalog.get(api) };
  const server = createMcpServer(registry, () => ctx);
  const maxLine = options.maxArgumentBytes + MCP_FRAMING_BYTES;
  // An oversized line is answered (its id cannot be read without parsing it: JSON-RPC's null id) and dropped.
  const lines = new BoundedLines(maxLine, (bytes) => {
    const err = rpcError(new WritError('PAYLOAD_TOO_LARGE', `a message of ${bytes} bytes exceeds the limit of ${maxLine} bytes; send smaller tool arguments`), 'stdio');
    stdout.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: err.code, message: err.message, data: err.data } }) + '\n');
  });
  stdin.pipe(lines);
  const transport = new StdioServerTransport(lines, stdout);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  lines.on('end', () => void server.close());
  await server.connect(transport);
  await closed;
}
