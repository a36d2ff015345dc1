/** A small HTTP client for a writ server (used by the CLI, the examples and the tests). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export class WritClient {
  constructor(readonly url: string) {}

  private async call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), { method, body, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } });
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

  submit(envelope: unknown, bearer?: string): Promise<HttpAnswer> {
    return this.call('POST', '/v1/commands', typeof envelope === 'string' ? envelope : JSON.stringify(envelope), bearer ? { authorization: `Bearer ${bearer}` } : {});
  }

  get(path: string): Promise<HttpAnswer> {
    return this.call('GET', path);
  }

  post(path: string, body?: string): Promise<HttpAnswer> {
    return this.call('POST', path, body);
  }
}
