import { WritError } from '../../core/errors.js';
import type { HttpAnswer, WritClient } from '../../sdk/client.js';
import { signEnvelope, type Signer } from '../../sdk/sign.js';
import type { ApiAnswer, WritApi } from './api.js';

function answerOf(a: HttpAnswer): ApiAnswer {
  return { status: a.status, body: a.body, header: (name) => a.headers.get(name) ?? undefined };
}

/** A server that cannot be reached is UNAVAILABLE to the agent, with the reason and what to start. */
async function reach(call: () => Promise<HttpAnswer>): Promise<ApiAnswer> {
  try {
    return answerOf(await call());
  } catch (err) {
    throw new WritError('UNAVAILABLE', (err as Error).message, { retryAfter: 1 });
  }
}

/**
 * The API of `writ mcp` (stdio): HTTP to the running server as the agent's own key — each command
 * signed with it, each read with a fresh read token of it (`client` carries the key as its reader).
 * writ mcp never opens the home's database: the server holds the home's writer lock, and reads
 * through its routes are authorised exactly as they are for any HTTP client with that key.
 */
export function clientApi(client: WritClient, signer: Signer, who: { tenant: string; actor: string }): WritApi {
  return {
    tenant: who.tenant,
    actor: who.actor,
    submit: (fields) => reach(() => client.submit(signEnvelope({ ...fields }, signer, { tenant: who.tenant, actor: who.actor }).envelope)),
    get: (path) => reach(() => client.get(path)),
  };
}
