import type { Identity } from '../access/identity.js';
import type { ReadAccess } from '../access/reads.js';
import type { EntityStore } from '../store/port.js';
import type { RouteAccess } from '../transports/http/access.js';

/**
 * Who may call a pack's route: declared exactly as writ's own routes declare it
 * (src/transports/http/access.ts), except `command`, which only POST /v1/commands is (its envelope
 * is authenticated by the pipeline, not by the route).
 */
export type PackRouteAccess = Exclude<RouteAccess, { readonly kind: 'command' }>;

export const PACK_ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * An HTTP route a pack serves (PackModule.routes). Its path lies under `/v1/<pack>/` (the pack's
 * own prefix); the server refuses at start a route outside it, one writ or another pack serves, and
 * one without a declared access.
 */
export interface PackRoute {
  readonly method: (typeof PACK_ROUTE_METHODS)[number];
  /** Fastify syntax: static segments, `:name` parameters, a final `*`; e.g. `/v1/knowledge/:tenant/seq`. */
  readonly path: string;
  readonly access: PackRouteAccess;
  /** Its OpenAPI operation (summary, parameters, responses) for GET /openapi.json; path parameters not listed are added. */
  readonly openapi: { readonly summary: string } & Readonly<Record<string, unknown>>;
  /**
   * Answers a request that passed the access gate: its value is sent as JSON (200). A thrown
   * WritError (HandlerRefusal) is answered with its code; anything else is INTERNAL, logged.
   */
  handler(request: PackRequest, context: PackRouteContext): unknown;
}

/** What a pack's route handler is told of the request. */
export interface PackRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The caller the access gate identified (null: anonymous on a public route, or open reads). */
  readonly identity: Identity | null;
  /** The body as sent (empty without one), at most the server's body limit (intake.maxBytes). */
  readonly body: Buffer;
  /** The body as a JSON object; INVALID_PAYLOAD when it is not one. */
  json(): Record<string, unknown>;
  /** Query parameter `name` as an integer in [min, max], `fallback` when absent; INVALID_ENVELOPE otherwise. */
  int(name: string, fallback: number, min: number, max: number): number;
}

/** What a pack's route may use: its own service, reads of committed entities, and read policy. Not the whole writ. */
export interface PackRouteContext {
  /** The pack's PackModule.service in this writ. */
  readonly service: unknown;
  /** Committed entities, read-only (writ.queries.entities). */
  readonly entities: Pick<EntityStore, 'getEntity' | 'listEntities' | 'entityVersions'>;
  /** Read policy: `require` refuses (FORBIDDEN) what Cedar does not allow `identity` to read; `may` asks. */
  readonly access: Pick<ReadAccess, 'require' | 'may'>;
}

/**
 * A pack contribution writ refuses at start (a route outside the pack's prefix or over another's,
 * a route without declared access, a CLI command over writ's own): names the pack and, when there
 * is one, the owner of what it tried to take.
 */
export class PackSurfaceError extends Error {
  constructor(readonly pack: string, readonly owner: string | null, message: string) {
    super(message);
    this.name = 'PackSurfaceError';
  }
}

/** A static segment, a `:name` parameter (letters: the OpenAPI path reads it back), or a final `*`. */
const SEGMENT = /^(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*|:[A-Za-z]+)$/;

/** The pack whose prefix `/v1/<pack>` a path lies under, or null. */
export function prefixOf(path: string): string | null {
  return /^\/v1\/([^/]+)(?:\/|$)/.exec(path)?.[1] ?? null;
}

/** Why `route` of pack `pack` cannot be served, or null; `packs` are the loaded packs' names. */
function refusal(pack: string, route: PackRoute, packs: ReadonlySet<string>): PackSurfaceError | null {
  const where = `pack ${pack}: route ${String(route?.method)} ${String(route?.path)}`;
  if (!route || typeof route.path !== 'string') return new PackSurfaceError(pack, null, `${where} has no path`);
  if (!(PACK_ROUTE_METHODS as readonly string[]).includes(route.method)) return new PackSurfaceError(pack, null, `${where}: method must be one of ${PACK_ROUTE_METHODS.join(', ')}`);
  const owner = prefixOf(route.path);
  if (owner !== pack) {
    const other = owner !== null && packs.has(owner) ? owner : null;
    return new PackSurfaceError(pack, other, `${where} lies outside its prefix /v1/${pack}/${other ? `, under pack ${other}'s prefix /v1/${other}/` : ''}; a pack serves routes under its own prefix only`);
  }
  const segments = route.path.split('/').slice(3);
  const bad = segments.find((s, i) => !(SEGMENT.test(s) || (s === '*' && i === segments.length - 1)));
  if (bad !== undefined) return new PackSurfaceError(pack, null, `${where}: segment ${JSON.stringify(bad)} is not a name, a :parameter (letters) or a final *`);
  const access = route.access as PackRouteAccess | undefined;
  if (!access || typeof access !== 'object' || typeof access.kind !== 'string') return new PackSurfaceError(pack, null, `${where} declares no access; say who may call it (docs/packs.md, "Routes")`);
  if (!['public', 'identified', 'tenant', 'operator', 'admin', 'bearer'].includes(access.kind)) return new PackSurfaceError(pack, null, `${where}: access ${JSON.stringify(access.kind)} is not one a pack route may declare (public, identified, tenant, operator, admin, bearer)`);
  if ((access.kind === 'tenant' || access.kind === 'admin') && access.tenantIn === 'params' && !segments.includes(':tenant')) return new PackSurfaceError(pack, null, `${where}: its access reads the tenant from the path, which has no :tenant`);
  if (typeof route.openapi?.summary !== 'string' || route.openapi.summary === '') return new PackSurfaceError(pack, null, `${where} has no openapi.summary (GET /openapi.json documents every route)`);
  if (typeof route.handler !== 'function') return new PackSurfaceError(pack, null, `${where} has no handler`);
  return null;
}

/**
 * Checks every pack's routes when the catalog loads (so writ refuses to start, and a tool to load,
 * with a pack that reaches outside its prefix): prefixes, segments, methods, declared access,
 * documentation. Routes writ itself serves are checked against when the server mounts them.
 */
export function checkPackRoutes(packs: ReadonlyArray<{ readonly name: string; readonly module: { readonly routes?: readonly PackRoute[] } }>): void {
  const names = new Set(packs.map((p) => p.name));
  for (const p of packs) {
    const seen = new Set<string>();
    if (p.module.routes !== undefined && !Array.isArray(p.module.routes)) throw new PackSurfaceError(p.name, null, `pack ${p.name}: routes must be an array of routes`);
    for (const route of p.module.routes ?? []) {
      const refused = refusal(p.name, route, names);
      if (refused) throw refused;
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new PackSurfaceError(p.name, null, `pack ${p.name} declares route ${key} twice`);
      seen.add(key);
    }
  }
}
