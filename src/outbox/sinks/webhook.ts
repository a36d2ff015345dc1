import type { WebhookSinkConfig } from '../../config/config.js';
import type { StoredOutboxRow } from '../../store/port.js';
import { errorText, type Attempt, type Sink } from '../sink.js';
import { loadWebhookSecret } from './webhook-secret.js';

/**
 * POSTs each event as JSON, signed per Standard Webhooks: `webhook-id` is the event id (the same on
 * every retry, so a receiver de-duplicates by it), `webhook-timestamp` the send time in seconds,
 * `webhook-signature` `v1,<base64 HMAC-SHA256>` over `id.timestamp.body` with the sink's secret.
 * 2xx is delivered; 410 Gone disables the sink; any other answer, a timeout or a network error is
 * retried.
 */
export class WebhookSink implements Sink {
  readonly kind = 'webhook';
  readonly concurrency: number;
  private readonly signer;

  constructor(private readonly config: WebhookSinkConfig) {
    this.concurrency = config.concurrency;
    this.signer = loadWebhookSecret(config.secretFile, config.name);
  }

  async deliver(event: StoredOutboxRow, body: string): Promise<Attempt> {
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer.sign(event.id, now, body),
      'user-agent': 'writ-outbox',
    };
    let res: Response;
    try {
      res = await fetch(this.config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.config.timeoutMs), redirect: 'manual' });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      return { ok: false, error: timedOut ? `no answer from ${this.config.url} within ${this.config.timeoutMs} ms` : `POST ${this.config.url} failed: ${errorText(err)}` };
    }
    // The body is not used; reading it lets the connection be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    if (res.status === 410) return { ok: false, status: 410, error: `${this.config.url} answered 410 Gone`, disable: `${this.config.url} answered 410 Gone` };
    return { ok: false, status: res.status, error: `${this.config.url} answered ${res.status}` };
  }

  async close(): Promise<void> {}
}
