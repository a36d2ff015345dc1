import { isCode } from '../core/codes.js';
import { WritError } from '../core/errors.js';
import { readAuthorization, type ReadSigner } from './sign.js';

/** A small HTTP client for a writ server (used by the CLI, the examples and the tests). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export class WritClient {
  /**
   * @param url the server's base URL
   * @param reader signs every request but command submission (reads, operator actions) with a
   *   fresh read token for its method and path (docs/security.md); without it they go anonymous
   */
  constructor(
    readonly url: string,
    readonly reader?: ReadSigner,
  ) {}

  private async call(method: string, path: string, body?: string, headers: Record<string, string> = {}, signed = true): Promise<HttpAnswer> {
    const target = new URL(path, this.url);
    // The token names the request target exactly as the server will receive it.
    const all: Record<string, string> = { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    if (this.reader && signed) all.authorization = readAuthorization(this.reader, method, target.pathname + target.search);
    let res: Response;
    try {
      res = await fetch(target, { method, body, headers: all });
    } catch (err) {
      throw new Error(`cannot reach writ at ${this.url} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); is \`writ serve\` running?`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  /** Submits a command envelope; the envelope's own signature (or `bearer`) authenticates it. */
  submit(envelope: unknown, bearer?: string): Promise<HttpAnswer> {
    return this.call('POST', '/v1/commands', typeof envelope === 'string' ? envelope : JSON.stringify(envelope), bearer ? { authorization: `Bearer ${bearer}` } : {}, false);
  }

  /**
   * The receipt (C2SP tlog-proof text) of a command: by default waits until a signed checkpoint
   * covers its record. Throws the server's typed error (WritError) for any other answer.
   */
  async receipt(tenant: string, requestId: string, options: { actor?: string; wait?: boolean } = {}): Promise<string> {
    const query = new URLSearchParams({ ...(options.actor ? { actor: options.actor } : {}), wait: String(options.wait ?? true) });
    const answer = await this.get(`/v1/receipts/${encodeURIComponent(tenant)}/${encodeURIComponent(requestId)}?${query}`);
    if (answer.status === 200 && typeof answer.body === 'string') return answer.body;
    const code = answer.body?.code;
    throw new WritError(isCode(code) ? code : 'INTERNAL', String(answer.body?.message ?? `the server answered ${answer.status}`), { details: { status: answer.status } });
  }

  get(path: string): Promise<HttpAnswer> {
    return this.call('GET', path);
  }

  post(path: string, body?: string): Promise<HttpAnswer> {
    return this.call('POST', path, body);
  }
}
