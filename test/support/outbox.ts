import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { ConfigInput } from '../../src/config/config.js';

/** A fresh `whsec_` secret in a 0600 file of its own folder; returns the path and the secret. */
export function webhookSecret(mode = 0o600): { file: string; secret: string } {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const file = join(mkdtempSync(join(tmpdir(), 'writ-hook-')), 'hook.secret');
  writeFileSync(file, secret + '\n', { mode });
  return { file, secret };
}

export interface Delivery {
  readonly id: string;
  readonly body: any;
  readonly raw: string;
}

/**
 * A real webhook endpoint (node:http) that verifies every request with the standardwebhooks library
 * and answers what `answer` says. `accepted` lists the deliveries it answered 2xx, in arrival order.
 */
export class WebhookReceiver {
  readonly accepted: Delivery[] = [];
  attempts = 0;
  badSignatures = 0;
  /** Status to answer a verified delivery with (default 200). */
  answer: (body: any) => number = () => 200;
  delayMs = 0;

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(secret: string): Promise<WebhookReceiver> {
    const wh = new Webhook(secret);
    let self: WebhookReceiver | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const r = self!;
        r.attempts++;
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = wh.verify(raw, req.headers as Record<string, string>);
        } catch {
          r.badSignatures++;
          res.writeHead(400).end();
          return;
        }
        if (r.delayMs) await sleep(r.delayMs);
        const status = r.answer(body);
        if (status >= 200 && status < 300) r.accepted.push({ id: req.headers['webhook-id'] as string, body, raw });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    self = new WebhookReceiver(server, `http://127.0.0.1:${port}/hook`);
    return self;
  }

  /** Distinct event ids accepted. */
  ids(): Set<string> {
    return new Set(this.accepted.map((d) => d.id));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `check` until it returns true; fails naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

/**
 * Per-entity order: for each target, the versions in the order first delivered must increase.
 * Returns the first violation, or null.
 */
export function orderViolation(deliveries: readonly { body: any }[]): string | null {
  const seen = new Set<string>();
  const last = new Map<string, number>();
  for (const { body } of deliveries) {
    if (seen.has(body.id)) continue;
    seen.add(body.id);
    const key = `${body.tenant}\n${body.target}`;
    const prev = last.get(key);
    if (prev !== undefined && body.seq < prev) return `${body.target}: seq ${body.seq} delivered after seq ${prev}`;
    last.set(key, body.seq);
  }
  return null;
}

/** The outbox config of a test: small backoff and attempts so that failures play out in a second. */
export function testOutbox(sinks: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): ConfigInput {
  return { outbox: { pollMs: 20, flushMs: 20, maxAttempts: 4, backoffBaseMs: 20, backoffCapMs: 200, sinks, ...extra }, limits: { rate: 100_000_000, windowSeconds: 60 } } as unknown as ConfigInput;
}
