const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (description: string) => ({ description, content: { 'application/json': { schema: ref('Answer') } } });
const query = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: 'query', required: false, description, schema });

const TENANT = {
  type: 'object',
  required: ['tenant', 'home', 'logs', 'created', 'ready'],
  properties: {
    tenant: { type: 'string' },
    home: { type: 'boolean', description: "the deployment's home tenant (config.tenant)" },
    logs: { type: 'boolean', description: 'it has a ledger record' },
    created: {
      type: ['object', 'null'],
      description: 'how writ.CreateTenant made it (null: the home tenant, or keys configured in auth.hmacKeys)',
      properties: { admin: { type: 'string' }, keyId: { type: 'string' }, at: { type: 'string', format: 'date-time' }, by: { type: 'string' }, record: { type: 'string', description: '<scroll>/<index> of the writ.CreateTenant record in the home tenant' } },
    },
    ready: { type: 'boolean', description: 'its first admin is in place (false while writ bootstraps it)' },
  },
};

/** GET /v1/tenants (`writ tenants list`). */
export function tenantPaths(): Record<string, unknown> {
  return {
    '/v1/tenants': {
      get: {
        summary: "The deployment's tenants, by name (operators of the home tenant)",
        parameters: [query('after', 'start after this tenant (the previous page\'s next)', { type: 'string' }), query('limit', 'page size (1..1000)', { type: 'integer', minimum: 1, maximum: 1000 })],
        responses: {
          '200': { description: 'A page', content: { 'application/json': { schema: { type: 'object', properties: { home: { type: 'string' }, items: { type: 'array', items: TENANT }, next: { type: ['string', 'null'] } } } } } },
          '400': answer('INVALID_ENVELOPE (bad query)'),
        },
      },
    },
  };
}
