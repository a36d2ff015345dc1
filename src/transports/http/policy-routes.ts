import type { FastifyInstance } from 'fastify';
import { cedarSchemaText } from '../../policy/schema.js';
import type { Writ } from '../../writ.js';

/**
 * GET /v1/policy/schema: the Cedar schema (human-readable form) that every policy is validated
 * against, generated from the catalog; what `writ policy schema` prints. It says no more than the
 * catalog (GET /v1/actions), so any identified caller may read it.
 */
export function policyRoutes(app: FastifyInstance, writ: Pick<Writ, 'catalog'>): void {
  let text: string | undefined;
  app.get('/v1/policy/schema', { config: { access: { kind: 'identified' } } }, async (_request, reply) => {
    text ??= cedarSchemaText(writ.catalog);
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}
