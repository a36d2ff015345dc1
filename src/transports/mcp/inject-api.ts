import type { FastifyInstance } from 'fastify';
import { newNonce } from '../../sdk/sign.js';
import { uuidv7 } from '../../core/uuid7.js';
import type { Identity } from '../../access/identity.js';
import type { ApiAnswer, WritApi } from './api.js';

/**
 * The API of an HTTP MCP session: writ's own routes, in process (Fastify inject), with the bearer
 * JWT of the MCP request being served. Reads are authorised by the routes' access declarations and
 * Cedar exactly as for the same token over HTTP; a command is completed (requestId, nonce,
 * timestamp; actor and tenant come from the token) and goes through POST /v1/commands, so the
 * pipeline authenticates it by the same bearer rules, and the in-flight gate counts it.
 */
export function injectApi(app: FastifyInstance, token: string, identity: Identity, now: () => number): WritApi {
  const headers = { authorization: `Bearer ${token}` };
  const call = async (method: 'GET' | 'POST', url: string, payload?: string): Promise<ApiAnswer> => {
    const res = await app.inject({ method, url, headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {
      /* text (a receipt, the policy schema) */
    }
    return { status: res.statusCode, body, header: (name) => (res.headers[name] === undefined ? undefined : String(res.headers[name])) };
  };
  return {
    tenant: identity.tenant,
    actor: identity.actor,
    submit: (fields) => call('POST', '/v1/commands', JSON.stringify({ v: 1, requestId: uuidv7(), nonce: newNonce(), timestamp: new Date(now()).toISOString(), ...fields })),
    get: (path) => call('GET', path),
  };
}
