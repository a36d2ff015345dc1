import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { WritError } from '../../core/errors.js';
import { rpcError, toolError } from './errors.js';
import type { ActionInfo, ArgumentsSchema, ToolContext, ToolDefinition } from './tool.js';

/** Most validation errors reported for one call: enough to fix the arguments, bounded in size. */
const MAX_REPORTED_ERRORS = 20;

/**
 * The tools of an MCP session: the groups of tools/index.ts, listed with their schemas and called
 * with their arguments checked first — their size (`maxArgumentBytes`), then their schema — so a
 * handler only ever sees arguments its schema accepts.
 */
export class ToolRegistry {
  private readonly byName = new Map<string, ToolDefinition>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(groups: ReadonlyArray<readonly ToolDefinition[]>, private readonly maxArgumentBytes: number) {
    for (const tool of groups.flat()) {
      if (this.byName.has(tool.name)) throw new Error(`two MCP tools are named ${tool.name}; tool names are unique across groups (src/transports/mcp/tools/)`);
      this.byName.set(tool.name, tool);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** tools/list: every tool with its schema (built from `actions` where the tool says so). */
  list(actions: readonly ActionInfo[]): Tool[] {
    return [...this.byName.values()].map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: schemaOf(t, actions) as Tool['inputSchema'],
      ...(t.annotations ? { annotations: t.annotations } : {}),
    }));
  }

  /** tools/call. An unknown tool is a JSON-RPC error; every other refusal a tool error (errors.ts). */
  async call(name: string, args: Record<string, unknown> | undefined, ctx: ToolContext): Promise<CallToolResult> {
    const tool = this.byName.get(name);
    if (!tool) throw rpcError(new WritError('UNKNOWN_ACTION', `no tool named ${JSON.stringify(name.slice(0, 128))}; tools/list names them (${this.names.join(', ')})`), 'tools/call');
    try {
      const input = args ?? {};
      const size = Buffer.byteLength(JSON.stringify(input));
      if (size > this.maxArgumentBytes) throw new WritError('PAYLOAD_TOO_LARGE', `the arguments of ${name} are ${size} bytes, over the limit of ${this.maxArgumentBytes} bytes (intake.maxBytes); send a smaller payload`);
      const actions = typeof tool.inputSchema === 'function' ? await ctx.actions().catch(() => []) : [];
      const validate = this.validator(schemaOf(tool, actions));
      if (!validate(input)) {
        const errors = (validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'invalid', ...(e.params ? { params: e.params } : {}) }));
        throw new WritError('INVALID_PAYLOAD', `the arguments of ${name} do not match its input schema: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { details: { errors } });
      }
      const out = await tool.handler(ctx, input);
      return { content: [{ type: 'text', text: out.text ?? JSON.stringify(out.value, null, 2) }], structuredContent: out.value as Record<string, unknown> };
    } catch (err) {
      return toolError(err, name, (err as { answer?: Record<string, unknown> }).answer);
    }
  }

  private validator(schema: ArgumentsSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.compiled.set(key, fn);
    }
    return fn;
  }
}

function schemaOf(tool: ToolDefinition, actions: readonly ActionInfo[]): ArgumentsSchema {
  return typeof tool.inputSchema === 'function' ? tool.inputSchema(actions) : tool.inputSchema;
}
