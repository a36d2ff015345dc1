import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { WritError, toWritError } from '../core/errors.js';
import { errorAnswer } from '../pipeline/reply.js';
import type { Witness } from './witness.js';

/** Largest add-checkpoint body accepted: 63 proof lines and a checkpoint with many cosignatures fit many times over. */
export const WITNESS_BODY_LIMIT = 64 * 1024;

/** C2SP tlog-witness: a 409 about the old size answers the stored size in this content type. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export interface WitnessServerOptions {
  /** Fastify logger: false in tests, true (JSON lines) when serving. */
  readonly logger?: boolean;
}

// The DESIGN §3 error shape, as the main server sends it (src/transports/http/server.ts sendError);
// importing that module would pull the whole command pipeline into the witness process.
function sendError(reply: FastifyReply, err: WritError): FastifyReply {
  return reply.code(err.httpStatus).type('application/json').send(JSON.stringify(errorAnswer(err, null, null)));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `writ witness serve`: the HTTP face of a C2SP tlog-witness. `POST /add-checkpoint` takes the raw
 * text body; 200 answers cosignature lines, 409 about the old size answers `<size>\n` as
 * `text/x.tlog.size`, every other error is writ's JSON error shape with the C2SP status.
 * `GET /` (and `GET /witness`) say who the witness is and which logs it follows.
 */
export function buildWitnessServer(witness: Witness, options: WitnessServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    bodyLimit: WITNESS_BODY_LIMIT,
    frameworkErrors: (error, _request, reply) => sendError(reply, new WritError('WITNESS_BAD_REQUEST', `bad request: ${error.message}`)),
  });
  // Bodies are parsed by the witness itself, strictly, whatever content type the client sends.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof WritError) return sendError(reply, error);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, new WritError('PAYLOAD_TOO_LARGE', `the body exceeds the limit of ${WITNESS_BODY_LIMIT} bytes`));
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new WritError('WITNESS_BAD_REQUEST', `bad request: ${error.message}`));
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(reply, toWritError(error));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new WritError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; a witness serves POST /add-checkpoint and GET /`)),
  );

  app.post('/add-checkpoint', async (request, reply) => {
    let body: string;
    try {
      body = utf8.decode(Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
    } catch {
      throw new WritError('WITNESS_BAD_REQUEST', 'the body is not valid UTF-8');
    }
    const answer = await witness.addCheckpoint(body);
    if (answer.status === 409) return reply.code(409).type(TLOG_SIZE_CONTENT_TYPE).send(`${answer.size}\n`);
    return reply.code(200).type('text/plain; charset=utf-8').send(answer.lines.join(''));
  });

  const describe = async () => witness.describe();
  app.get('/', describe);
  app.get('/witness', describe);
  return app;
}
