import { READ_TOKEN_SCHEME } from '../../core/read-token.js';
import type { DeclaredRoute } from './access.js';

type Operation = { security?: unknown[]; responses?: Record<string, unknown>; description?: string; 'x-writ-access'?: string };

/** The security schemes: a read token signed with a registered key, or a bearer JWT. */
export const SECURITY_SCHEMES = {
  writSig: {
    type: 'http',
    scheme: READ_TOKEN_SCHEME,
    description:
      'A read token: a compact JWS signed with the caller\'s registered key (EdDSA, ES256 raw r||s, or HS256 for a configured key), header {alg, typ: "writ-read+jwt", kid}, claims {sub, tenant, iat, exp (at most 300 s after iat), htm (method), htu (path and query)}. docs/security.md.',
  },
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT from the configured issuer (auth.jwt) with the claims sub and tenant.' },
} as const;

const WHO: Record<DeclaredRoute['access']['kind'], string> = {
  public: 'anyone',
  command: 'the signed envelope (or bearer token) of the command',
  identified: 'any identified caller',
  tenant: "an identity of the tenant the request names, as the tenant's read policies allow",
  operator: "an operator: read:outbox in the deployment's home tenant (admins and auditors by default); GET /metrics also takes the scrape token (metrics.scrapeTokenFile)",
  admin: "an admin of the deployment's home tenant (or of the log's tenant for a checkpoint)",
  bearer: 'any caller with a bearer JWT (auth.jwt); what its tools then read and run is what the routes allow that token',
};

/** `/v1/entities/:tenant/:type/:id` → `/v1/entities/{tenant}/{type}/{id}`; a wildcard is `{path}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');
}

/**
 * Adds to each operation of `doc` who may call it (from the routes' declared access): its security
 * requirements and its 401 and 403 answers. An operation the routes do not know is left alone.
 */
export function annotateAccess(doc: { paths: Record<string, Record<string, Operation>> }, routes: readonly DeclaredRoute[]): void {
  for (const route of routes) {
    const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    if (!op) continue;
    const kind = route.access.kind;
    op['x-writ-access'] = WHO[kind];
    if (kind === 'public' || kind === 'command') continue;
    op.security = kind === 'bearer' ? [{ bearer: [] }] : [{ writSig: [] }, { bearer: [] }];
    op.responses = {
      ...op.responses,
      '401': { $ref: '#/components/responses/Unauthenticated' },
      '403': { $ref: '#/components/responses/Forbidden' },
    };
  }
}
