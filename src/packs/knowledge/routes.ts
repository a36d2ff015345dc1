import type { PackRequest, PackRoute, PackRouteContext } from '../../catalog/pack-routes.js';
import { WritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import { KNOWLEDGE_OPERATIONS } from './openapi.js';
import { knowledgeOf } from './runtime.js';
import { canonSeq, inbox, kipGet, kipLog, type KnowledgeReader } from './reads.js';
import { search } from './search.js';
import { knowledgeStatus, preview } from './status.js';

const tenantOf = (req: PackRequest) => {
  if (!PATTERNS.tenant.test(req.params.tenant)) throw new WritError('NOT_FOUND', 'no such tenant');
  return req.params.tenant;
};

const need = (req: PackRequest, name: string) => {
  const v = req.query[name];
  if (v === undefined || v === '') throw new WritError('INVALID_ENVELOPE', `query parameter ${name} is required`);
  return v;
};

const readerOf = (ctx: PackRouteContext): KnowledgeReader => ({ store: ctx.entities, repos: knowledgeOf(ctx.service).repos, access: ctx.access });

/**
 * A read of the tenant the path names, by an identity of that tenant (the access gate); the
 * handler asks policy itself (read:knowledge), knowing which ref or inbox is read.
 */
const read = (name: keyof typeof KNOWLEDGE_OPERATIONS, path: string, handler: (req: PackRequest, ctx: PackRouteContext, tenant: string) => unknown): PackRoute => ({
  method: 'GET',
  path: `/v1/knowledge/:tenant/${path}`,
  access: { kind: 'tenant', tenantIn: 'params' },
  openapi: KNOWLEDGE_OPERATIONS[name],
  handler: (req, ctx) => handler(req, ctx, tenantOf(req)),
});

/** The knowledge pack's reads over HTTP (docs/knowledge.md, "Reads"), served through the pack route API. */
export const KNOWLEDGE_ROUTES: readonly PackRoute[] = [
  read('entry', 'entry', (req, ctx, t) => kipGet(readerOf(ctx), req.identity, t, { ref: req.query.ref, path: need(req, 'path'), at: req.query.at })),
  read('log', 'log', (req, ctx, t) => kipLog(readerOf(ctx), req.identity, t, { ref: req.query.ref, path: req.query.path, limit: req.int('limit', 20, 1, 200) })),
  read('seq', 'seq', (req, ctx, t) => canonSeq(readerOf(ctx), req.identity, t)),
  read('search', 'search', (req, ctx, t) => search({ index: knowledgeOf(ctx.service).search.index, access: ctx.access }, req.identity, t, { q: need(req, 'q'), ref: req.query.ref, limit: req.int('limit', 20, 1, 100) })),
  read('inbox', 'inbox', (req, ctx, t) => inbox(readerOf(ctx), req.identity, t, { to: req.query.to, all: req.query.all === 'true' })),
  read('status', 'status', (req, ctx, t) => knowledgeStatus(readerOf(ctx), req.identity, t)),
  read('preview', 'proposals/:id/preview', (req, ctx, t) => preview(readerOf(ctx), req.identity, t, req.params.id)),
];
