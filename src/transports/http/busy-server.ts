import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import { errorAnswer } from '../../pipeline/reply.js';
import type { InFlightGate } from './in-flight.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Whether a request is a command submission (POST /v1/commands, with or without a query). */
function isCommand(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return req.method === 'POST' && (url === '/v1/commands' || url.startsWith('/v1/commands?'));
}

/**
 * The Node HTTP server under Fastify (its `serverFactory`), refusing a command that finds every
 * place of server.maxInFlight taken before Fastify sees it. Under overload most requests are such
 * refusals, and their cost is CPU the accepted commands need: here a refusal costs Node's header
 * parsing and one write of an answer built once (no routing, hooks, request and reply objects),
 * and the body is discarded unread (Node drains it, so the connection stays usable). Requests that
 * do not come through a socket (inject() in tests) are refused by the route's onRequest hook, the
 * same answer.
 */
export function busyAwareServer(gate: InFlightGate, refused: () => void): (handler: Handler, options: FastifyServerOptions) => Server {
  const body = Buffer.from(JSON.stringify(errorAnswer(gate.busy(), null, null)));
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), 'retry-after': String(gate.busy().retryAfter) };
  return (handler, options) => {
    const server = createServer((req, res) => {
      if (!gate.full || !isCommand(req)) return handler(req, res);
      refused();
      res.writeHead(503, headers).end(body);
    });
    // What Fastify sets on the server it makes itself.
    server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
    server.requestTimeout = options.requestTimeout ?? 0;
    server.setTimeout(options.connectionTimeout ?? 0);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
