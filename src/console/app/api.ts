import { WritError } from '../../core/errors.js';
import { readAuthorizationWeb, signEnvelopeWeb, type WebSigner } from '../../sdk/sign-web.js';

export interface Answer {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly etag: string | null;
}

/**
 * The console's reads and commands, through writ's ordinary API on the page's own origin: every
 * read signed with the operator's key as a read token bound to its method and URL (`WritSig`),
 * or anonymous when no key is imported (then it sees what any visitor sees); every decision a
 * signed command envelope POSTed to /v1/commands.
 */
export class Api {
  constructor(readonly signer: WebSigner | null) {}

  async request(method: 'GET' | 'POST', path: string, extra: Record<string, string> = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...extra };
    if (this.signer) headers.authorization = await readAuthorizationWeb(this.signer, method, path);
    const res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit' });
    const text = res.status === 304 ? '' : await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* a note or a proof: text */
    }
    return { status: res.status, body, text, etag: res.headers.get('etag') };
  }

  /** GET that throws WritError with the server's code and message on anything but 2xx. */
  async get(path: string): Promise<any> {
    const a = await this.request('GET', path);
    if (a.status >= 300) throw new WritError(a.body?.code ?? 'INTERNAL', a.body?.message ?? `${path}: HTTP ${a.status}`);
    return a.body;
  }

  /** Signs a command in the browser and submits it; answers the server's JSON outcome. */
  async submit(action: string, payload: Record<string, unknown>): Promise<Answer> {
    if (!this.signer) throw new WritError('UNAUTHENTICATED', 'import your key first (Key page)');
    const { envelope } = await signEnvelopeWeb({ action, payload }, this.signer);
    const res = await fetch('/v1/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope), credentials: 'omit' });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep text */
    }
    return { status: res.status, body, text, etag: null };
  }

  get tenant(): string {
    return this.signer?.tenant ?? (localStorage.getItem('writ.tenant') || 'default');
  }
}
