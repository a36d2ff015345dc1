import type { FastifyInstance } from 'fastify';
import { WritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import { tenantReady } from '../../home/tenant-bootstrap.js';
import { TENANT_TYPE, type TenantDoc } from '../../state/documents.js';
import type { Writ } from '../../writ.js';
import type { Queries } from '../queries.js';
import { DEFAULT_PAGE, intParam, MAX_PAGE } from './read-routes.js';

/** One tenant this deployment serves, as `GET /v1/tenants` lists it. */
export interface TenantListing {
  readonly tenant: string;
  /** The deployment's home tenant (config.tenant), made by `writ init`. */
  readonly home: boolean;
  /** Whether the tenant has a log (a ledger record) yet. */
  readonly logs: boolean;
  /** How writ.CreateTenant made it (null: the home tenant, or one that only has keys in auth.hmacKeys). */
  readonly created: { readonly admin: string; readonly keyId: string; readonly at: string; readonly by: string; readonly record: string } | null;
  /** Whether its first admin is in place (key registered, admin assigned); false while writ bootstraps it. */
  readonly ready: boolean;
}

/** The home tenant's tenant entities, the logs the applier knows and the directory (a tenant's bootstrap). */
type TenantRouteDeps = Pick<Writ, 'config' | 'applier' | 'directory'> & { readonly queries: Pick<Queries, 'entities'> };

async function createdTenants(writ: TenantRouteDeps): Promise<Map<string, { doc: TenantDoc; record: string }>> {
  const out = new Map<string, { doc: TenantDoc; record: string }>();
  let after: string | null = null;
  do {
    const rows = await writ.queries.entities.listEntities(writ.config.tenant, TENANT_TYPE, after, MAX_PAGE);
    for (const r of rows) if (!r.deleted && r.doc) out.set(r.id, { doc: r.doc as TenantDoc, record: `${r.scroll}/${r.index}` });
    after = rows.length < MAX_PAGE ? null : rows[rows.length - 1].id;
  } while (after !== null);
  return out;
}

/**
 * The tenants of this deployment (README, `writ tenants list`): the home tenant, every tenant with a log,
 * with keys configured, or made by writ.CreateTenant, by name. A deployment's list, so a read for
 * its operators (policy's read:outbox in the home tenant: admins and auditors by default).
 */
export function tenantRoutes(app: FastifyInstance, writ: TenantRouteDeps): void {
  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/tenants', { config: { access: { kind: 'operator' } } }, async (request) => {
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const after = request.query.after;
    if (after !== undefined && !PATTERNS.tenant.test(after)) throw new WritError('INVALID_ENVELOPE', 'query parameter after must be a tenant name (the previous page\'s next)');
    const created = await createdTenants(writ);
    const withLogs = new Set(writ.applier.logSizes().map((l) => l.tenant));
    const names = new Set([writ.config.tenant, ...withLogs, ...writ.config.auth.hmacKeys.map((k) => k.tenant), ...created.keys()]);
    const sorted = [...names].sort().filter((t) => after === undefined || t > after);
    const page = sorted.slice(0, limit);
    const items: TenantListing[] = page.map((tenant) => {
      const c = created.get(tenant);
      return {
        tenant,
        home: tenant === writ.config.tenant,
        logs: withLogs.has(tenant),
        created: c ? { admin: c.doc.admin, keyId: c.doc.keyId, at: c.doc.createdAt, by: c.doc.createdBy, record: c.record } : null,
        ready: c ? tenantReady(writ.directory, c.doc) : true,
      };
    });
    return { home: writ.config.tenant, items, next: sorted.length > limit ? page[page.length - 1] : null };
  });
}
