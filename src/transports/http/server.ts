import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CODES } from '../../core/codes.js';
import { WritError, toWritError } from '../../core/errors.js';
import { PATTERNS } from '../../core/envelope.js';
import type { Reply } from '../../pipeline/context.js';
import { errorAnswer } from '../../pipeline/reply.js';
import type { Writ } from '../../writ.js';
import { parseBearer } from '../bearer.js';
import { installAccess } from './access.js';
import { approvalRoutes } from './approval-routes.js';
import { consoleRoutes } from './console-routes.js';
import { logError } from '../../util/log.js';
import { answerClientError } from './client-error.js';
import { annotateAccess } from './openapi-access.js';
import { buildOpenApi } from './openapi.js';
import { InFlightGate } from './in-flight.js';
import { busyAwareServer } from './busy-server.js';
import { logRoutes } from './log-routes.js';
import { mcpRoutes } from '../mcp/http-route.js';
import { policyRoutes } from './policy-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { registerHttpFamilies } from '../../metrics/transport-families.js';
import { requestIdHint } from '../../pipeline/intake/identity-hint.js';
import { outboxRoutes } from './outbox-routes.js';
import { readRoutes } from './read-routes.js';
import { tenantRoutes } from './tenant-routes.js';
import { mountPackRoutes } from './pack-routes.js';

export interface ServerOptions {
  /** Fastify logger: false in tests, true (JSON lines, no bodies) when serving. */
  readonly logger?: boolean;
  /** Extra sections of GET /healthz, each read at request time (e.g. `nats`: the NATS intake's state). */
  readonly health?: Readonly<Record<string, () => unknown>>;
}

/** Sends a WritError in the DESIGN §3 answer shape. */
export function sendError(reply: FastifyReply, err: WritError, requestId: string | null = null): FastifyReply {
  if (err.retryAfter !== undefined) reply.header('Retry-After', String(err.retryAfter));
  return reply.code(CODES[err.code].http).type('application/json').send(JSON.stringify(errorAnswer(err, requestId, null)));
}

function sendReply(reply: FastifyReply, r: Reply): FastifyReply {
  if (r.replayed) reply.header('Idempotent-Replayed', 'true');
  if (r.retryAfter !== undefined) reply.header('Retry-After', String(r.retryAfter));
  return reply.code(r.httpStatus).type('application/json').send(r.body);
}

function bearerOf(request: FastifyRequest): string | undefined {
  return parseBearer(request.headers.authorization);
}

/** The HTTP transport (DESIGN §7): Fastify routes over the pipeline and the read side of the store. */
export function buildServer(writ: Writ, options: ServerOptions = {}): FastifyInstance {
  const gate = new InFlightGate(writ.config.server.maxInFlight);
  const app = Fastify({
    // Past server.maxInFlight a command is refused before Fastify sees it (busy-server.ts), counted as pushback.
    serverFactory: busyAwareServer(gate, () => writ.pipeline.counters.pushback.UNAVAILABLE++),
    logger: options.logger ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    bodyLimit: writ.config.intake.maxBytes,
    // Requests during shutdown get UNAVAILABLE in the answer shape (below), not a bare 503.
    return503OnClosing: false,
    // Errors raised before routing (a URL that does not percent-decode) get the answer shape too.
    frameworkErrors: (error, _request, reply) => sendError(reply, new WritError('INVALID_ENVELOPE', `bad request: ${error.message}`)),
    // And requests Node's HTTP parser refuses before Fastify sees them (framing errors).
    clientErrorHandler: (err, socket) => answerClientError(err, socket, () => writ.pipeline.counters.unauthenticated++),
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook (not async): it runs on every request, and a promise per request is not free.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('Connection', 'close');
    sendError(reply, new WritError('UNAVAILABLE', 'writ is shutting down; retry against another instance or after restart', { retryAfter: 1 }));
  });
  // The pipeline parses bodies itself (strictly), so every content type arrives as raw bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof WritError) return sendError(reply, error);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      writ.pipeline.counters.unauthenticated++;
      return sendError(reply, new WritError('PAYLOAD_TOO_LARGE', `the body exceeds the limit of ${request.routeOptions.bodyLimit ?? writ.config.intake.maxBytes} bytes`));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new WritError('INVALID_ENVELOPE', `bad request: ${error.message}`));
    }
    // Every INTERNAL answer is logged, whatever the Fastify logger (off under `writ start`): one JSON
    // line on stderr naming the route, never the URL's values, the headers or the body.
    logError('unexpected error; answered INTERNAL', error, { method: request.method, route: request.routeOptions.url ?? null, reqId: request.id });
    return sendError(reply, toWritError(error));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new WritError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; see /openapi.json`)));

  installAccess(app, writ.access);

  writ.metrics.attach('http', gate, registerHttpFamilies);
  const refuseBusy = (reply: FastifyReply, requestId: string | null) => {
    // Pushback: counted (GET /healthz, /metrics), never recorded.
    writ.pipeline.counters.pushback.UNAVAILABLE++;
    return sendError(reply, gate.busy(), requestId);
  };
  // When every place is taken already, the refusal comes before the body is read and parsed, so a
  // flood of refused commands costs the server as little as it can (the handler still takes places).
  const busyEarly = (_request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (gate.full) refuseBusy(reply, null);
    else done();
  };
  app.post('/v1/commands', { config: { access: { kind: 'command' } }, onRequest: busyEarly }, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (gate.full) return refuseBusy(reply, requestIdHint(body));
    gate.enter();
    try {
      const bearer = bearerOf(request);
      if (bearer === '') return sendError(reply, new WritError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token>"'));
      const result = await writ.pipeline.submit({ body, bearer, receivedAt: Date.now() });
      return sendReply(reply, result);
    } finally {
      gate.leave();
    }
  });

  // Stored answers: policy decides per answer, knowing whether it answers the caller's own command.
  app.get<{ Params: { tenant: string; requestId: string }; Querystring: { actor?: string } }>('/v1/commands/:tenant/:requestId', { config: { access: { kind: 'tenant', tenantIn: 'params' } } }, async (request, reply) => {
    const { tenant, requestId } = request.params;
    if (!PATTERNS.tenant.test(tenant) || !PATTERNS.requestId.test(requestId)) throw new WritError('NOT_FOUND', 'no such command');
    let found = await writ.queries.outcomes.findOutcomes(tenant, requestId);
    if (request.query.actor !== undefined) found = found.filter((o) => o.actor === request.query.actor);
    if (found.length === 0) throw new WritError('NOT_FOUND', `no stored outcome for requestId ${JSON.stringify(requestId)} in tenant ${JSON.stringify(tenant)}`);
    if (found.length > 1) throw new WritError('INVALID_STATE', `requestId ${JSON.stringify(requestId)} was used by several actors; add ?actor=`, { details: { actors: found.map((o) => o.actor) } });
    const o = found[0];
    writ.access.require(request.identity, 'command', tenant, `command/${requestId}`, { own: o.actor === request.identity?.actor });
    reply.header('Writ-Command-Status', String(o.httpStatus));
    return reply.type('application/json').send(o.response);
  });

  readRoutes(app, writ, options.health ?? {});
  approvalRoutes(app, writ);
  logRoutes(app, writ);
  outboxRoutes(app, writ);
  metricsRoutes(app, writ);
  tenantRoutes(app, writ);
  policyRoutes(app, writ);
  mcpRoutes(app, writ);
  consoleRoutes(app);
  // After writ's own routes, so that a pack's may not take their place (pack-routes.ts).
  mountPackRoutes(app, writ);
  const openapi = buildOpenApi(writ.catalog);
  app.get('/openapi.json', { config: { access: { kind: 'public' } } }, async () => openapi);
  // Who may call each operation, from the routes' own declarations (so the two cannot disagree).
  annotateAccess(openapi as never, app.routeAccess);
  return app;
}
