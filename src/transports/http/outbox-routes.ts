import type { FastifyInstance } from 'fastify';
import { WritError } from '../../core/errors.js';
import type { Dispatcher } from '../../outbox/dispatcher.js';
import type { Writ } from '../../writ.js';
import type { Queries } from '../queries.js';
import { bytePage, pageJson } from './byte-page.js';
import { DEFAULT_PAGE, intParam, MAX_PAGE } from './read-routes.js';

const SINK = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The outbox queries, and the dispatcher of this process (its actions), if it runs one. */
type OutboxRouteDeps = Pick<Writ, 'config' | 'outbox'> & { readonly queries: Pick<Queries, 'outbox' | 'outboxStatus'> };

const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sinkParam(writ: OutboxRouteDeps, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!SINK.test(value) || !writ.config.outbox.sinks.some((s) => s.name === value)) {
    throw new WritError('NOT_FOUND', `no outbox sink named ${JSON.stringify(value)}; GET /v1/outbox/sinks lists them`);
  }
  return value;
}

function running(writ: OutboxRouteDeps): Dispatcher {
  if (writ.outbox) return writ.outbox;
  throw new WritError('UNAVAILABLE', 'this writ process does not run the outbox dispatcher (outbox.enabled is false or no sinks are configured); send this to the process that does', { retryAfter: 60 });
}

/**
 * The outbox (docs/outbox.md): events in commit order, each sink's delivery state, dead letters and
 * delivery log; and two operator actions, retry and redrive. The outbox is the deployment's, not a
 * tenant's: its reads are for operators (policy's read:outbox in the home tenant: admins and
 * auditors by default), its actions for admins of the home tenant (docs/security.md).
 */
export function outboxRoutes(app: FastifyInstance, writ: OutboxRouteDeps): void {
  app.get('/v1/outbox/sinks', { config: { access: { kind: 'operator' } } }, async () => writ.queries.outboxStatus());

  app.get<{ Querystring: { after?: string; limit?: string } }>('/v1/outbox/events', { config: { access: { kind: 'operator' } } }, async (request, reply) => {
    const after = intParam(request.query.after, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const head = await writ.queries.outbox.outboxHead();
    const page = await bytePage(after, limit, writ.config.limits.maxPageBytes, async (seq, n) => {
      const rows = await writ.queries.outbox.readOutbox(seq, n);
      return { items: rows.map((e) => ({ value: e, cursor: e.seq })), next: rows.length < n ? null : rows[rows.length - 1].seq };
    });
    return reply.type('application/json').send(pageJson({ head }, 'items', page));
  });

  app.get<{ Params: { id: string } }>('/v1/outbox/events/:id', { config: { access: { kind: 'operator' } } }, async (request) => {
    const row = EVENT_ID.test(request.params.id) ? await writ.queries.outbox.outboxEventById(request.params.id) : null;
    if (!row) throw new WritError('NOT_FOUND', `no outbox event ${JSON.stringify(request.params.id)}`);
    return row;
  });

  app.get<{ Querystring: { sink?: string; limit?: string } }>('/v1/outbox/dead-letters', { config: { access: { kind: 'operator' } } }, async (request) => {
    const sink = sinkParam(writ, request.query.sink);
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    return { items: await writ.queries.outbox.deadLetters(sink, limit) };
  });

  app.get<{ Params: { sink: string }; Querystring: { limit?: string } }>('/v1/outbox/sinks/:sink/deliveries', { config: { access: { kind: 'operator' } } }, async (request) => {
    const sink = sinkParam(writ, request.params.sink)!;
    const limit = intParam(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    return { sink, items: await writ.queries.outbox.deliveryLog(sink, limit) };
  });

  app.post<{ Querystring: { sink?: string } }>('/v1/outbox/retry', { config: { access: { kind: 'admin', what: 'POST /v1/outbox/retry' } } }, async (request) => {
    const sink = sinkParam(writ, request.query.sink);
    return { retried: running(writ).retry(sink) };
  });

  app.post<{ Querystring: { sink?: string; id?: string } }>('/v1/outbox/dead-letters/redrive', { config: { access: { kind: 'admin', what: 'POST /v1/outbox/dead-letters/redrive' } } }, async (request) => {
    const sink = sinkParam(writ, request.query.sink);
    const id = request.query.id;
    if (id !== undefined && !EVENT_ID.test(id)) throw new WritError('INVALID_ENVELOPE', 'query parameter id must be an event id (a UUID)');
    const marked = await running(writ).redrive(sink, id ?? null);
    if (id !== undefined && marked === 0) throw new WritError('NOT_FOUND', `event ${id} is not a dead letter${sink ? ` of sink ${sink}` : ''}; GET /v1/outbox/dead-letters lists them`);
    return { marked };
  });
}
