import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayDecide } from '../../approvals/decide.js';
import { approvalSummary } from '../../approvals/listing.js';
import { APPROVAL_STATUSES, type ApprovalDoc, type ApprovalStatus } from '../../approvals/pending.js';
import { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import { PATTERNS } from '../../core/envelope.js';
import { originOf } from '../../ledger/record.js';
import type { Writ } from '../../writ.js';
import type { Queries } from '../queries.js';
import { tenantOf } from './access.js';
import { bytePage, pageJson } from './byte-page.js';
import { DEFAULT_PAGE, intParam, MAX_PAGE } from './read-routes.js';

/** The approval queries and the stored answers of commands (for an ended one's final answer). */
type ApprovalRouteDeps = Pick<Writ, 'config' | 'access' | 'now'> & { readonly queries: Pick<Queries, 'approvals' | 'outcomes'> };

const APPROVAL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The tenant named by ?tenant=, else the caller's own (the access hook refused any other). */
function tenantParam(request: FastifyRequest, writ: ApprovalRouteDeps): string {
  const t = tenantOf(request, writ.access);
  if (!PATTERNS.tenant.test(t)) throw new WritError('INVALID_ENVELOPE', 'query parameter tenant is not a tenant name');
  return t;
}

/**
 * Commands held for approval, read from state (the `approval` entities and the open-approval
 * index), never from the ledger: the list of a tenant's approvals, and one approval with its
 * command, a preview of its effect on current state, its decisions so far and its deadline.
 */
export function approvalRoutes(app: FastifyInstance, writ: ApprovalRouteDeps): void {
  app.get<{ Querystring: { tenant?: string; status?: string; after?: string; limit?: string } }>('/v1/approvals', { config: { access: { kind: 'tenant', tenantIn: 'query', read: () => ({ kind: 'approval', resource: 'approval/*' }) } } }, async (request, reply) => {
    const tenant = tenantParam(request, writ);
    const status = request.query.status;
    if (status !== undefined && !APPROVAL_STATUSES.includes(status as ApprovalStatus)) {
      throw new WritError('INVALID_ENVELOPE', `query parameter status must be one of ${APPROVAL_STATUSES.join(', ')}`);
    }
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const now = writ.now();
    // Approval documents carry their command: read a few at a time, under the page's byte budget.
    const page = await bytePage(request.query.after ?? null, limit, writ.config.limits.maxPageBytes, async (after, n) => {
      const chunk = await writ.queries.approvals.list(tenant, status as ApprovalStatus | undefined, after, n);
      return { items: chunk.docs.map((d) => ({ value: approvalSummary(d, now), cursor: d.id })), next: chunk.next };
    });
    // An ETag of the page, so a poller (the web console's inbox) is answered 304 when nothing changed.
    const body = pageJson({ tenant }, 'items', page);
    const etag = `"${sha256Hex(body).slice(0, 32)}"`;
    reply.header('ETag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json').send(body);
  });

  app.get<{ Params: { id: string }; Querystring: { tenant?: string } }>('/v1/approvals/:id', { config: { access: { kind: 'tenant', tenantIn: 'query', read: (p) => ({ kind: 'approval', resource: `approval/${p.id}` }) } } }, async (request) => {
    const tenant = tenantParam(request, writ);
    const { id } = request.params;
    const row = APPROVAL_ID.test(id) ? await writ.queries.approvals.get(tenant, id) : null;
    if (!row) throw new WritError('NOT_FOUND', `no command is held under approval ${JSON.stringify(id)} in tenant ${JSON.stringify(tenant)}`);
    const doc = row.doc as ApprovalDoc;
    // The command (and its preview, which shows it) to who may see it: by default the requester,
    // the approvers it asks for, admins and auditors; the final answer as any stored answer.
    const { identity } = request;
    const own = identity?.actor === doc.requester;
    const decides = identity !== null && mayDecide(doc.requirement, writ.access.roles(identity));
    const seesCommand = writ.access.may(identity, 'envelope', tenant, `approval/${id}`, { own, decides });
    const seesAnswer = writ.access.may(identity, 'command', tenant, `command/${doc.requestId}`, { own });
    const stored = doc.status === 'pending' || !seesAnswer ? null : await writ.queries.outcomes.getOutcome(tenant, doc.requester, doc.requestId);
    return {
      ...approvalSummary(doc, writ.now()),
      version: row.version,
      command: seesCommand ? doc.envelope : null,
      pendingRecord: { log: originOf(writ.config.ledger.originPrefix, tenant, doc.pending.scroll), index: doc.pending.index },
      // What it would do if it ran now; once it has ended, its final answer instead (while stored).
      preview: doc.status === 'pending' && seesCommand ? await writ.queries.approvals.preview(doc) : null,
      answer: stored ? (JSON.parse(stored.response) as unknown) : null,
      // What policy kept from this caller (docs/security.md), so a null is not mistaken for "none".
      hidden: [...(seesCommand ? [] : ['command', 'preview']), ...(seesAnswer ? [] : ['answer'])],
    };
  });
}
