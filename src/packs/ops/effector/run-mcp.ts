import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { McpExecutor } from '../../../config/ops.js';
import { digestOf } from './digest.js';
import type { Execution, OpRun } from './executor.js';
import { opEnv } from './run-command.js';
import { resolveValues } from './secrets.js';

/**
 * A tool of a downstream MCP server, started over stdio for the attempt (no shell): the op is the
 * tool's arguments. A result with isError is a failure; the result's content is digested as stdout.
 */
export async function runMcp(spec: McpExecutor, run: OpRun): Promise<Execution> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const empty = digestOf('');
  let client: Client | undefined;
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...resolveValues(spec.env, 'env'), ...opEnv(run) };
    const transport = new StdioClientTransport({ command: spec.command, args: [...spec.args], env, stderr: 'ignore' });
    client = new Client({ name: 'writ-effector', version: '1' });
    await client.connect(transport, { timeout: spec.timeoutMs });
    const result = await client.callTool({ name: spec.tool, arguments: { ...run } }, undefined, { timeout: Math.max(1, spec.timeoutMs - ms()) });
    const failed = result.isError === true;
    return { ok: !failed, exitStatus: failed ? 1 : 0, durationMs: ms(), stdout: digestOf(JSON.stringify(result.content ?? result)), stderr: empty, error: failed ? `tool ${spec.tool} answered isError` : null };
  } catch (err) {
    return { ok: false, exitStatus: null, durationMs: ms(), stdout: empty, stderr: empty, error: `the MCP call failed: ${(err as Error).message}`.slice(0, 500) };
  } finally {
    await client?.close().catch(() => undefined);
  }
}
