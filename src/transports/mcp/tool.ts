import type { WritApi } from './api.js';

/** A JSON Schema (2020-12) of a tool's arguments: always an object. */
export interface ArgumentsSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
  readonly additionalProperties: false;
  readonly [keyword: string]: unknown;
}

/** One catalog action as GET /v1/actions lists it (what tool schemas are generated from). */
export interface ActionInfo {
  readonly name: string;
  readonly pack: string;
  readonly description?: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** What a tool's handler works with: the session's API (its identity inside) and the action catalog. */
export interface ToolContext {
  readonly api: WritApi;
  /** The catalog of the server this session talks to (read once, then kept). */
  actions(): Promise<readonly ActionInfo[]>;
}

/** What a handler returns: a JSON value (the tool's structured result) and, optionally, its text. */
export interface ToolOutput {
  readonly value: Readonly<Record<string, unknown>>;
  /** The text content shown to the model; the value's JSON when absent. */
  readonly text?: string;
}

/**
 * A tool. A tool group is a file under tools/ exporting a `readonly ToolDefinition[]`, listed once in
 * tools/index.ts. Handlers throw WritError for every refusal; the registry turns it into a tool error
 * with the code, its MCP error number, the message and the registry's hint.
 */
export interface ToolDefinition {
  /** snake_case, unique across groups. */
  readonly name: string;
  readonly description: string;
  /** The arguments' schema, or a function building it from the catalog (e.g. `submit`'s action names). */
  readonly inputSchema: ArgumentsSchema | ((actions: readonly ActionInfo[]) => ArgumentsSchema);
  /** MCP tool annotations: readOnlyHint for reads (clients may then call them without asking). */
  readonly annotations?: { readonly readOnlyHint?: boolean; readonly destructiveHint?: boolean; readonly idempotentHint?: boolean; readonly openWorldHint?: boolean };
  handler(ctx: ToolContext, args: Record<string, any>): Promise<ToolOutput>;
}

/** The tenant a read names: the argument, or the session's own. */
export function tenantArg(ctx: ToolContext, args: { tenant?: string }): string {
  return args.tenant ?? ctx.api.tenant;
}

/** Shared argument schemas. */
export const ARG = {
  tenant: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: "tenant to read (default: the session's own; another tenant is refused unless it is yours)" },
  requestId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$', description: "the command's requestId" },
  actor: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$' },
  type: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'entity type (product, page, actor, …)' },
  // '.' and '..' cannot be sent as a path segment (URLs resolve them), over MCP as over HTTP.
  id: { type: 'string', minLength: 1, maxLength: 448, not: { enum: ['.', '..'] }, description: 'entity id' },
  index: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'page size (default 100)' },
  scroll: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'which log (a pack: commerce, content, access, writ, …)' },
} as const;
