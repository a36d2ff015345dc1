import type { FastifyInstance } from 'fastify';
import { WritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import { canonSeq, inbox, kipGet, kipLog, type KnowledgeReader } from '../../packs/knowledge/reads.js';
import { knowledgeOf } from '../../packs/knowledge/pack.js';
import { search } from '../../packs/knowledge/search.js';
import { knowledgeStatus, preview } from '../../packs/knowledge/status.js';
import type { Writ } from '../../writ.js';
import { intParam } from './read-routes.js';

type Q = Record<string, string | undefined>;
const tenantRoute = { config: { access: { kind: 'tenant', tenantIn: 'params' } as const } };

/** The knowledge pack's reads over HTTP (docs/knowledge.md, "Reads"); each asks policy itself (read:knowledge). */
export function knowledgeRoutes(app: FastifyInstance, writ: Pick<Writ, 'access' | 'packs' | 'queries'>): void {
  const knowledge = knowledgeOf(writ);
  const reader: KnowledgeReader = { store: writ.queries.entities, repos: knowledge.repos, access: writ.access };
  const tenantOf = (p: { tenant: string }) => {
    if (!PATTERNS.tenant.test(p.tenant)) throw new WritError('NOT_FOUND', 'no such tenant');
    return p.tenant;
  };
  const need = (q: Q, name: string) => {
    const v = q[name];
    if (v === undefined || v === '') throw new WritError('INVALID_ENVELOPE', `query parameter ${name} is required`);
    return v;
  };
  app.get<{ Params: { tenant: string }; Querystring: Q }>('/v1/knowledge/:tenant/entry', tenantRoute, async (req) =>
    kipGet(reader, req.identity, tenantOf(req.params), { ref: req.query.ref, path: need(req.query, 'path'), at: req.query.at }),
  );
  app.get<{ Params: { tenant: string }; Querystring: Q }>('/v1/knowledge/:tenant/log', tenantRoute, async (req) =>
    kipLog(reader, req.identity, tenantOf(req.params), { ref: req.query.ref, path: req.query.path, limit: intParam(req.query.limit, 'limit', 20, 1, 200) }),
  );
  app.get<{ Params: { tenant: string } }>('/v1/knowledge/:tenant/seq', tenantRoute, async (req) => canonSeq(reader, req.identity, tenantOf(req.params)));
  app.get<{ Params: { tenant: string }; Querystring: Q }>('/v1/knowledge/:tenant/search', tenantRoute, async (req) =>
    search({ index: knowledge.search.index, access: writ.access }, req.identity, tenantOf(req.params), { q: need(req.query, 'q'), ref: req.query.ref, limit: intParam(req.query.limit, 'limit', 20, 1, 100) }),
  );
  app.get<{ Params: { tenant: string }; Querystring: Q }>('/v1/knowledge/:tenant/inbox', tenantRoute, async (req) =>
    inbox(reader, req.identity, tenantOf(req.params), { to: req.query.to, all: req.query.all === 'true' }),
  );
  app.get<{ Params: { tenant: string } }>('/v1/knowledge/:tenant/status', tenantRoute, async (req) => knowledgeStatus(reader, req.identity, tenantOf(req.params)));
  app.get<{ Params: { tenant: string; id: string } }>('/v1/knowledge/:tenant/proposals/:id/preview', tenantRoute, async (req) => preview(reader, req.identity, tenantOf(req.params), req.params.id));
}
