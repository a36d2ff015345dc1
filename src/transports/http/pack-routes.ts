import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PackSurfaceError, prefixOf, type PackRequest, type PackRouteContext } from '../../catalog/pack-routes.js';
import { WritError } from '../../core/errors.js';
import type { Writ } from '../../writ.js';
import { intParam } from './read-routes.js';

/** What a pack's handler is told of `request` (after the access gate set its identity). */
function packRequest(request: FastifyRequest): PackRequest {
  const query = request.query as Record<string, string | undefined>;
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return {
    params: request.params as Record<string, string>,
    query,
    identity: request.identity,
    body,
    json() {
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new WritError('INVALID_PAYLOAD', `the body is not JSON: ${(err as Error).message}`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new WritError('INVALID_PAYLOAD', 'the body must be a JSON object');
      return value as Record<string, unknown>;
    },
    int: (name, fallback, min, max) => intParam(query[name], name, fallback, min, max),
  };
}

/**
 * Mounts the loaded packs' routes (PackModule.routes; the catalog checked their prefixes and
 * declared access). Called after writ's own routes: a pack whose prefix `/v1/<pack>` one of them
 * uses is refused (PackSurfaceError), so no pack route can shadow a core one, even with a more
 * specific path. Each route passes the same access gate as the core ones (its `config.access`).
 */
export function mountPackRoutes(app: FastifyInstance, writ: Pick<Writ, 'catalog' | 'packs' | 'queries' | 'access'>): void {
  const core = [...app.routeAccess];
  for (const pack of writ.catalog.packs) {
    const routes = pack.module.routes ?? [];
    if (routes.length === 0) continue;
    // A core route whose second segment is this pack's name, or any name (a parameter), would be shadowed.
    const taken = core.find((r) => {
      const segment = prefixOf(r.url);
      return segment === pack.name || segment?.startsWith(':') || segment?.startsWith('*');
    });
    if (taken) throw new PackSurfaceError(pack.name, `${taken.method} ${taken.url}`, `pack ${pack.name} may not serve routes under /v1/${pack.name}/: writ's own route ${taken.method} ${taken.url} is there; rename the pack`);
    const context: PackRouteContext = { service: writ.packs.service(pack.name), entities: writ.queries.entities, access: writ.access };
    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.path,
        config: { access: route.access },
        handler: async (request, reply) => reply.type('application/json').send(JSON.stringify((await route.handler(packRequest(request), context)) ?? null)),
      });
    }
  }
}
