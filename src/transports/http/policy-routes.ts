import type { FastifyInstance } from 'fastify';
import { WritError } from '../../core/errors.js';
import { cedarSchemaText } from '../../policy/schema.js';
import type { Writ } from '../../writ.js';

/** A reload takes no body: it re-reads files already in the home; anything larger is refused unread. */
export const RELOAD_BODY_LIMIT = 256;

/**
 * GET /v1/policy/schema: the Cedar schema (human-readable form) that every policy is validated
 * against, generated from the catalog; what `writ policy schema` prints. It says no more than the
 * catalog (GET /v1/actions), so any identified caller may read it.
 *
 * GET /v1/policy: the policy set in force (its digest, files and their digests), for operators.
 * POST /v1/policy/reload: reads the home's and the packs' policy files again and puts them in force
 * (docs/policy.md, "Reloading"); an admin power of the home tenant, as it changes who may do what.
 */
export function policyRoutes(app: FastifyInstance, writ: Pick<Writ, 'catalog' | 'policy'>): void {
  let text: string | undefined;
  app.get('/v1/policy/schema', { config: { access: { kind: 'identified' } } }, async (_request, reply) => {
    text ??= cedarSchemaText(writ.catalog);
    return reply.type('text/plain; charset=utf-8').send(text);
  });

  app.get('/v1/policy', { config: { access: { kind: 'operator' } } }, async () => writ.policy.inForce());

  app.post('/v1/policy/reload', { bodyLimit: RELOAD_BODY_LIMIT, config: { access: { kind: 'admin', what: 'POST /v1/policy/reload' } } }, async (request) => {
    if (hasBody(request.body)) throw new WritError('INVALID_ENVELOPE', 'POST /v1/policy/reload takes no body: it reads the policy files already in the home (<home>/policies/*.cedar and the packs\'); change them there and send the reload without a body');
    // The access hook let only an identified admin of the home through.
    return writ.policy.reload(`actor:${request.identity!.actor}`);
  });
}

function hasBody(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (Buffer.isBuffer(body) || typeof body === 'string') return body.length > 0;
  return true;
}
