import { connect, type Socket } from 'node:net';

/** A response as the lean client reads it: status and body bytes (chunked bodies are joined). */
export interface LeanResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** Length of a chunked body that is complete in `buf` (from `start`), and its joined bytes; null while incomplete. */
function chunked(buf: Buffer, start: number): { end: number; body: Buffer } | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    if (buf.length < eol + 2 + size + 2) return null;
    if (size === 0) return { end: eol + 4, body: Buffer.concat(parts) };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * A minimal HTTP/1.1 keep-alive client for load generation, in the manner of wrk: one request at a
 * time per connection, requests pre-built as bytes, responses read by status line and
 * Content-Length (or chunked framing) only. It spends far less CPU per request than node:http,
 * which matters when the load generator shares two cores with the server it measures.
 */
export class LeanConnection {
  private buffer: Buffer = Buffer.alloc(0);
  /** Chunks received after `buffer` while a response of known length is incomplete: joined once, when it is whole. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes `buffer` must hold for the response being read to be whole (0: unknown). */
  private need = 0;
  private waiting: ((response: LeanResponse) => void) | undefined;
  private failed: ((err: Error) => void) | undefined;
  /** Set once the socket is closed or broken: open a new connection to go on. */
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // A large body arrives in many chunks: joining them as they come would copy it over and over.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.need && this.buffer.length + this.pendingBytes < this.need) return;
      this.buffer = Buffer.concat(this.buffer.length ? [this.buffer, ...this.pending] : this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      this.tryResponse();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(host: string, port: number): Promise<LeanConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new LeanConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one POST and resolves with the response status once its whole body has arrived. */
  async post(path: string, host: string, body: Buffer): Promise<number> {
    const head = Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1');
    return (await this.send(Buffer.concat([head, body]))).status;
  }

  /** Sends one pre-built request (all its bytes) and resolves with the response once it is whole. */
  send(request: Buffer): Promise<LeanResponse> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(request);
    });
  }

  private fail(err: Error): void {
    this.closed = true;
    const failed = this.failed;
    this.waiting = undefined;
    this.failed = undefined;
    failed?.(err);
  }

  private tryResponse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    let body: Buffer;
    let consumed: number;
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const c = chunked(this.buffer, end + 4);
      if (!c) return;
      body = c.body;
      consumed = c.end;
    } else {
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (this.buffer.length < end + 4 + length) {
        this.need = end + 4 + length;
        return;
      }
      body = this.buffer.subarray(end + 4, end + 4 + length);
      consumed = end + 4 + length;
    }
    this.buffer = this.buffer.subarray(consumed);
    this.need = 0;
    const done = this.waiting;
    this.waiting = undefined;
    this.failed = undefined;
    done({ status, body });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
