import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../access/identity.js';
import { WritError } from '../../core/errors.js';
import { parseStrictJson } from '../../core/strict-json.js';
import type { Writ } from '../../writ.js';
import { parseBearer } from '../bearer.js';
import { MCP_FRAMING_BYTES, MCP_FRAMING_DEPTH } from './limits.js';
import { McpSessions, type McpSession } from './sessions.js';

const SWEEP_MS = 30_000;

/**
 * The Streamable HTTP transport of MCP at /mcp (protocol revision 2025-03-26 and later), on the
 * running server. Every request carries a bearer JWT (access kind `bearer`: verified by the same
 * rules as for POST /v1/commands; no credential, no session). POST carries JSON-RPC; the body is
 * bounded (intake.maxBytes plus the framing) and parsed strictly before the SDK sees it. A request
 * without Mcp-Session-Id must be `initialize`, which opens a session bound to the caller's identity
 * (sessions.ts bounds them); DELETE ends one. GET, the optional server-to-client stream, is not
 * offered (405): writ sends no notifications, and an open stream per session would hold a
 * connection for nothing. Answers are JSON, never SSE.
 */
export function mcpRoutes(app: FastifyInstance, writ: Pick<Writ, 'config' | 'now'>): void {
  const sessions = new McpSessions({ maxSessions: writ.config.mcp.maxSessions, maxSessionsPerActor: writ.config.mcp.maxSessionsPerActor, idleMs: writ.config.mcp.sessionIdleSeconds * 1000 }, writ.now);
  const sweeper = setInterval(() => void sessions.sweep(), SWEEP_MS);
  sweeper.unref();
  app.decorate('mcpSessions', sessions);
  app.addHook('preClose', async () => {
    clearInterval(sweeper);
    await sessions.closeAll();
  });
  const limits = { maxDepth: writ.config.intake.maxDepth + MCP_FRAMING_DEPTH };

  // The SDK is loaded on the first initialize (http-session.ts), not with the server.
  let opener: Promise<(identity: Identity) => Promise<McpSession>> | undefined;
  /** A session for an initialize request, in a place admitted first (the caller adds or releases it). */
  const open = async (identity: Identity): Promise<McpSession> => {
    await sessions.admit(identity);
    try {
      opener ??= import('./http-session.js').then((m) => m.sessionOpener(app, writ));
      return await (await opener)(identity);
    } catch (err) {
      sessions.release();
      opener = undefined;
      throw err;
    }
  };

  app.post('/mcp', { bodyLimit: writ.config.intake.maxBytes + MCP_FRAMING_BYTES, config: { access: { kind: 'bearer' } } }, async (request, reply) => {
    const identity = request.identity!;
    const message = parseStrictJson(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), limits);
    const sid = request.headers['mcp-session-id'];
    if (sid === undefined) {
      if (!isInitialize(message)) throw new WritError('INVALID_ENVELOPE', 'a request without an Mcp-Session-Id header must be a single initialize request; start a session first');
      const session = await open(identity);
      try {
        await forward(session, request, reply, message);
      } finally {
        // Only an initialize the transport accepted leaves a session behind.
        if (session.transport.sessionId === session.id && reply.statusCode === 200) sessions.add(session);
        else {
          sessions.release();
          await session.server.close().catch(() => undefined);
        }
      }
      return reply;
    }
    return forward(sessionOf(sessions, sid, identity), request, reply, message);
  });

  app.delete('/mcp', { config: { access: { kind: 'bearer' } } }, async (request, reply) => {
    const session = sessionOf(sessions, request.headers['mcp-session-id'], request.identity!);
    await forward(session, request, reply, undefined);
    sessions.drop(session.id);
    return reply;
  });

  app.get('/mcp', { config: { access: { kind: 'public' } } }, async (_request, reply) => reply.code(405).header('Allow', 'POST, DELETE').send());

  async function forward(session: McpSession, request: FastifyRequest, reply: FastifyReply, message: unknown): Promise<FastifyReply> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    const web = new Request(`http://mcp.invalid${request.url}`, { method: request.method, headers });
    const token = parseBearer(request.headers.authorization) ?? '';
    session.busy++;
    let res: Response;
    try {
      res = await session.transport.handleRequest(web, { parsedBody: message, authInfo: { token, clientId: session.actor, scopes: [], extra: { tenant: session.tenant } } });
    } finally {
      session.busy--;
      session.lastUsed = writ.now();
    }
    res.headers.forEach((value, name) => void reply.header(name, value));
    return reply.code(res.status).send(res.body ? Buffer.from(await res.arrayBuffer()) : undefined);
  }
}

/** A single JSON-RPC initialize request (the SDK's own check runs again on it). */
function isInitialize(message: unknown): boolean {
  return message !== null && typeof message === 'object' && !Array.isArray(message) && (message as { method?: unknown }).method === 'initialize' && 'id' in message;
}

function sessionOf(sessions: McpSessions, sid: string | string[] | undefined, identity: Identity): McpSession {
  const id = typeof sid === 'string' ? sid : '';
  const session = id ? sessions.find(id, identity) : undefined;
  if (!session) throw new WritError('NOT_FOUND', 'no MCP session with this Mcp-Session-Id for this identity (it ended, was idle too long, or is not yours); start a new one with initialize');
  return session;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The open sessions of the MCP endpoint (tests and /healthz read their number). */
    mcpSessions: McpSessions;
  }
}
