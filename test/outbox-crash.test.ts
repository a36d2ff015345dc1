import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { orderViolation, waitUntil, webhookSecret, WebhookReceiver } from './support/outbox.js';
import type { ReadSigner } from '../src/sdk/sign.js';
import { ServerProcess, signedGet } from './support/robustness.js';

/**
 * A real `writ serve` child delivering to a slow webhook endpoint is killed with SIGKILL in the
 * middle of delivery and restarted: every event arrives at least once, and an event sent again
 * carries the same id and the same bytes (docs/outbox.md, "Crashes").
 */

const EVENTS = 150;

async function allEventIds(url: string, reader: ReadSigner): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ; ) {
    const page = (await (await signedGet(url, `/v1/outbox/events?after=${after}&limit=1000`, reader)).json()) as { items: Array<{ id: string; seq: number }>; next: number | null };
    ids.push(...page.items.map((e) => e.id));
    if (page.next === null) return ids;
    after = page.next;
  }
}

describe('outbox: writ killed with SIGKILL in the middle of delivery', () => {
  const { file, secret } = webhookSecret();
  let home: string;
  let admin: Signer;
  let tenant: string;
  let receiver: WebhookReceiver;
  const children: ServerProcess[] = [];

  before(async () => {
    receiver = await WebhookReceiver.start(secret);
    receiver.delayMs = 40;
    home = mkdtempSync(join(tmpdir(), 'writ-outbox-crash-'));
    const init = await initHome(home, { port: 0 });
    tenant = init.tenant;
    admin = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
    const cfg = join(home, 'config.json');
    const outbox = { flushMs: 50, pollMs: 50, sinks: [{ name: 'hook', kind: 'webhook', url: receiver.url, secretFile: file, concurrency: 2 }] };
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), outbox, limits: { rate: 100_000_000, windowSeconds: 60 } }, null, 2));
  });

  after(async () => {
    for (const c of children) await c.kill();
    await receiver?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('delivers every event at least once after a restart; duplicates carry the same event id and bytes', async () => {
    const first = await ServerProcess.start(home);
    children.push(first);
    for (let n = 0; n < EVENTS; n++) {
      const { envelope } = signEnvelope({ action: 'UpsertProduct', payload: { sku: `sku-${n % 7}`, name: `n${n}`, price: { amount: n, currency: 'EUR' } } }, admin, { tenant });
      const res = await fetch(`${first.url}/v1/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
      assert.equal(res.status, 200, await res.text());
    }
    await waitUntil(() => receiver.ids().size >= 40, 'delivery is under way');
    await first.kill();
    const beforeRestart = receiver.ids().size;
    assert.ok(beforeRestart < EVENTS, `the kill came in the middle of delivery (${beforeRestart} of ${EVENTS}+ delivered)`);

    const second = await ServerProcess.start(home);
    children.push(second);
    const ids = await allEventIds(second.url, { ...admin, tenant });
    assert.ok(ids.length >= EVENTS);
    await waitUntil(() => ids.every((id) => receiver.ids().has(id)), 'every event is delivered after the restart', 60_000);
    assert.equal(receiver.badSignatures, 0);
    const byId = new Map<string, string>();
    let duplicates = 0;
    for (const d of receiver.accepted) {
      const prev = byId.get(d.id);
      if (prev !== undefined) {
        duplicates++;
        assert.equal(d.raw, prev, `event ${d.id} was sent again with other bytes`);
      }
      byId.set(d.id, d.raw);
    }
    assert.ok([...byId.keys()].every((id) => ids.includes(id)), 'nothing but outbox events was delivered');
    assert.equal(orderViolation(receiver.accepted), null);
    console.log(`# ${ids.length} events, ${beforeRestart} delivered before the kill, ${duplicates} sent again after the restart`);
    await second.stop();
  });
});
