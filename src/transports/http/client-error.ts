import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { CODES } from '../../core/codes.js';
import { WritError } from '../../core/errors.js';
import { errorAnswer } from '../../pipeline/reply.js';

/** What a request that Node's HTTP parser refused did wrong, by the parser's error code. */
function refusal(code: string | undefined): WritError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new WritError('PAYLOAD_TOO_LARGE', 'the request headers exceed the size limit; send fewer or shorter headers');
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new WritError('INVALID_ENVELOPE', 'bad HTTP framing: the Content-Length header is invalid (one decimal length, and not beside Transfer-Encoding: chunked)');
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return new WritError('INVALID_ENVELOPE', 'bad HTTP framing: the chunked transfer encoding is invalid; send hexadecimal chunk sizes, each chunk followed by CRLF, and a final 0 chunk');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new WritError('INVALID_ENVELOPE', 'the request did not arrive whole within the server\'s request timeout; send it again');
    default:
      return new WritError('INVALID_ENVELOPE', `bad HTTP framing (${code ?? 'unparsable request'}); send an HTTP/1.1 request line (METHOD /path HTTP/1.1), headers, and a body framed by Content-Length or chunked encoding`);
  }
}

/**
 * Fastify's clientErrorHandler: a request Node's HTTP parser refuses (a garbage request line, a bad
 * Content-Length, broken chunked encoding) never reaches a route, so Fastify would answer it with
 * its own body. writ answers it in the DESIGN §3 shape with a registered code, written raw on the
 * socket (there is no reply object), then closes the connection: after a framing error nothing
 * that follows on it can be trusted to start a request. Nothing of the request is echoed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket, count: () => void): void {
  // A reset connection is gone; there is nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  count();
  const e = refusal(err.code);
  const body = JSON.stringify(errorAnswer(e, null, null));
  const status = CODES[e.code].http;
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
