import { isCode } from '../../core/codes.js';
import { WritError } from '../../core/errors.js';

/** One answer of writ's HTTP API: status, body (parsed JSON, else text) and the headers a tool needs. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
  readonly header: (name: string) => string | undefined;
}

/**
 * What an MCP session may do, and nothing more: send a command and GET a route of writ's HTTP API,
 * each with the session's own credential. Every tool is written against this port, so an agent sees
 * exactly what the HTTP API shows the same identity (the routes' access rules and Cedar's read
 * decisions run unchanged) and its commands go through the one pipeline like any other.
 *
 * - over stdio (`writ mcp`): HTTP to the running server, the envelope signed with the agent's key and
 *   every read with a fresh read token of that key (client-api.ts);
 * - over HTTP (`/mcp`): the same routes in process (Fastify inject), with the request's bearer JWT
 *   (inject-api.ts).
 */
export interface WritApi {
  /** The tenant this session acts in (the key's tenant, or the token's `tenant` claim). */
  readonly tenant: string;
  /** Who this session acts as (the key's actor, or the token's `sub`). */
  readonly actor: string;
  /**
   * Completes (v, requestId, nonce, timestamp; actor and tenant from the credential) and submits a
   * command through POST /v1/commands; `fields` holds action, payload and the optional envelope fields.
   */
  submit(fields: Readonly<Record<string, unknown>>): Promise<ApiAnswer>;
  /** GETs a route (`path` with its query, each part already percent-encoded). */
  get(path: string): Promise<ApiAnswer>;
}

/** The answer's body when it is a success; the answer's own typed error otherwise. */
export function okBody(answer: ApiAnswer): any {
  if (answer.status < 400) return answer.body;
  throw errorOf(answer);
}

/** The WritError an error answer carries (its registered code, message and details). */
export function errorOf(answer: ApiAnswer): WritError {
  const body = answer.body && typeof answer.body === 'object' ? (answer.body as { code?: unknown; message?: unknown; details?: Record<string, unknown> }) : {};
  const code = isCode(body.code) ? body.code : 'INTERNAL';
  const retry = Number(answer.header('retry-after'));
  return new WritError(code, typeof body.message === 'string' ? body.message : `writ answered ${answer.status}`, {
    ...(body.details ? { details: body.details } : {}),
    ...(Number.isFinite(retry) && retry > 0 ? { retryAfter: retry } : {}),
  });
}

/** A path segment, percent-encoded. */
export const seg = (value: string): string => encodeURIComponent(value);

/** `?a=1&b=2` of the defined values, or ''. */
export function queryOf(values: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined) as Array<[string, string | number | boolean]>;
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
}
