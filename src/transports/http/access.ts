import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WritError } from '../../core/errors.js';
import type { Identity } from '../../access/identity.js';
import type { ReadAccess } from '../../access/reads.js';
import type { ReadFacts, ReadKind } from '../../policy/reads.js';

/** What a tenant route reads, from its parameters and query (and who asks): the kind, the resource, the facts. */
export type ReadOf = (
  params: Record<string, string>,
  query: Record<string, string | undefined>,
  who: { readonly identity: Identity | null; readonly access: ReadAccess; readonly tenant: string },
) => { kind: ReadKind; resource: string; facts?: ReadFacts };

/**
 * Who may call a route; every route declares one (`config: { access }`), or the server refuses to
 * register it. The table in docs/security.md lists them all.
 *
 * - public:     anyone, no credential looked at (the verifiable log, the API description); with
 *               `identify`, a credential that is sent is verified and may see more (/healthz)
 * - command:    POST /v1/commands, whose envelope the pipeline authenticates
 * - identified: any caller with an identity, of any tenant (the action catalog)
 * - tenant:     an identity of the tenant the route names (`tenantIn` params or query; a query
 *               without it means the caller's own), and, when `read` is given, policy's permission
 *               for that read; without `read` the handler asks policy itself (it knows the facts)
 * - operator:   reads of the deployment's outbox and metrics: policy's read:outbox in the home tenant;
 *               with `token`, also a request whose Authorization carries it (a Prometheus scraper), with no identity
 * - admin:      operator actions: the admin role of the home tenant (or, with `tenantIn`, of the
 *               tenant the route names)
 * - bearer:     an identity proven by a bearer JWT, of any tenant (the MCP endpoint, whose tools then
 *               call the routes above with that same token); a read token, bound to one request, is refused
 */
export type RouteAccess =
  | { readonly kind: 'public'; readonly identify?: boolean }
  | { readonly kind: 'command' }
  | { readonly kind: 'identified' }
  | { readonly kind: 'tenant'; readonly tenantIn: 'params' | 'query'; readonly read?: ReadOf }
  | { readonly kind: 'operator'; readonly token?: { matches(authorization: string | undefined): boolean } }
  | { readonly kind: 'admin'; readonly what: string; readonly tenantIn?: 'params' }
  | { readonly kind: 'bearer' };

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The caller, resolved by the access hook (null: anonymous, or a route that looks at no credential). */
    identity: Identity | null;
  }
  interface FastifyInstance {
    /** Every route with its declared access, in registration order. */
    routeAccess: DeclaredRoute[];
  }
}

/** The tenant a tenant route names: its `tenant` parameter, or the query's, or the caller's own. */
export function tenantOf(request: FastifyRequest, access: ReadAccess): string {
  const params = request.params as Record<string, string | undefined>;
  const query = request.query as Record<string, string | undefined>;
  return params.tenant ?? query.tenant ?? request.identity?.tenant ?? access.home;
}

/**
 * Installs access control: refuses to register a route that declares no access, and checks each
 * request against its route's declaration before the body is read.
 */
export function installAccess(app: FastifyInstance, access: ReadAccess): void {
  app.decorate('routeAccess', [] as DeclaredRoute[]);
  app.decorateRequest('identity', null);
  app.addHook('onRoute', (route) => {
    const declared = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!declared) throw new Error(`route ${methods.join(',')} ${route.url} declares no access (config.access); say who may call it (src/transports/http/access.ts)`);
    for (const method of methods) app.routeAccess.push({ method, url: route.url, access: declared });
  });
  // A callback hook: most requests (commands, the public log) need no credential, and those pay no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    const declared = request.routeOptions.config?.access;
    // No route matched (a 404 follows), or a route that looks at no credential.
    if (!declared || declared.kind === 'command' || (declared.kind === 'public' && !declared.identify)) return done();
    check(request, declared, access).then(() => done(), done);
  });
}

async function check(request: FastifyRequest, declared: RouteAccess, access: ReadAccess): Promise<void> {
  if (declared.kind === 'operator' && declared.token?.matches(request.headers.authorization)) return;
  request.identity = await access.identify(request.headers.authorization, { method: request.method, target: request.url });
  if (declared.kind === 'public') return;
  if (declared.kind === 'bearer') {
    if (request.identity?.method === 'jwt') return;
    throw new WritError('UNAUTHENTICATED', 'this endpoint needs "Authorization: Bearer <JWT>" (auth.jwt) on every request; a read token is bound to one request, so an agent holding a key runs `writ mcp --key <file> --key-id <id>` over stdio instead');
  }
  if (declared.kind === 'admin') {
    const tenant = declared.tenantIn ? (request.params as Record<string, string>).tenant : undefined;
    return access.requireAdmin(request.identity, declared.what, tenant);
  }
  const identity = access.required(request.identity);
  if (declared.kind === 'operator') return access.require(identity, 'outbox', access.home, 'outbox/deployment');
  if (declared.kind === 'tenant') {
    const tenant = tenantOf(request, access);
    access.sameTenant(identity, tenant);
    if (declared.read) {
      const { kind, resource, facts } = declared.read(request.params as Record<string, string>, request.query as Record<string, string | undefined>, { identity, access, tenant });
      access.require(identity, kind, tenant, resource, facts);
    }
  }
}
