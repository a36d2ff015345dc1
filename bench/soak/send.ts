import { connect } from 'node:net';
import { LeanConnection } from '../lean-client.js';
import type { SoakRequest } from './requests.js';

/** What the soak records of one answer: the HTTP status (or `none`: closed unanswered, `timeout`) and the error code. */
export interface Outcome {
  readonly status: string;
  readonly code: string | null;
  /** For a 5xx: the start of the answer, to say what broke. */
  readonly detail?: string;
}

/** Requests of the other modes get this long; a keep-alive one is cut by the watchdog in run.ts. */
const TIMEOUT_MS = 10_000;
const CODE = /"code":"([A-Z_]+)"/;

export function outcomeOf(status: number, body: Buffer): Outcome {
  // writ's answers put the code near the start ({"status":"ERROR","code":…}); a success has none.
  const m = status >= 400 ? CODE.exec(body.toString('latin1', 0, Math.min(body.length, 300))) : null;
  const detail = status >= 500 ? body.toString('utf8', 0, Math.min(body.length, 300)) : undefined;
  return { status: String(status), code: m ? m[1] : null, ...(detail !== undefined ? { detail } : {}) };
}

function withTimeout<T>(p: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error('timeout'));
      }, TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Raw bytes on a plain socket, half-closed after writing; the status line of whatever comes back. */
function sendRaw(host: string, port: number, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port }, () => socket.end(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: 'timeout', code: null });
    }, TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.toString('latin1', 0, 16));
      if (!m) return resolve({ status: 'none', code: null });
      const start = text.indexOf('\r\n\r\n');
      resolve(outcomeOf(Number(m[1]), start < 0 ? Buffer.alloc(0) : text.subarray(start + 4)));
    });
  });
}

/**
 * One worker's way to the server: its keep-alive connection (reopened when the server closes it),
 * a connection of its own for `fresh` requests, a plain socket for `raw` ones.
 */
export class Sender {
  private conn: LeanConnection | undefined;
  /** When the request in flight was sent (0 when idle): the watchdog cuts one that hangs. */
  startedAt = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async send(r: SoakRequest): Promise<Outcome> {
    this.startedAt = Date.now();
    try {
      if (r.mode === 'raw') return await sendRaw(this.host, this.port, r.bytes);
      if (r.mode === 'fresh') {
        const c = await LeanConnection.open(this.host, this.port);
        try {
          const res = await withTimeout(c.send(r.bytes), () => c.close());
          return outcomeOf(res.status, res.body);
        } finally {
          c.close();
        }
      }
      if (!this.conn || this.conn.closed) this.conn = await LeanConnection.open(this.host, this.port);
      const res = await this.conn.send(r.bytes);
      return outcomeOf(res.status, res.body);
    } catch (err) {
      return { status: (err as Error).message === 'timeout' || Date.now() - this.startedAt >= TIMEOUT_MS ? 'timeout' : 'none', code: null };
    } finally {
      this.startedAt = 0;
    }
  }

  /** Cuts a keep-alive request that has waited longer than the timeout (its promise rejects). */
  watchdog(now: number): void {
    if (this.startedAt && now - this.startedAt > TIMEOUT_MS) this.conn?.close();
  }

  close(): void {
    this.conn?.close();
  }
}
