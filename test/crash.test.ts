import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { chainProblems, checkAnswer, readLedgerOverHttp, ServerProcess, signedGet, type LedgerEntry } from './support/robustness.js';

/**
 * A real `writ serve` child under concurrent signed load, killed with SIGKILL at a random moment and
 * restarted, several times. Whatever a client saw acknowledged (HTTP 200) must survive exactly once;
 * whatever was lost in the kill may be applied or not, but never twice (DESIGN §1 apply, §3, §6).
 */

const CLIENTS = 16;
const CYCLES = 4;
const SKUS = 12;
const PAGES = 6;

interface Sent {
  readonly requestId: string;
  readonly commandHash: string;
  readonly target: string;
  readonly text: string;
  /** The body of the 200 answer, once one arrived. */
  ack?: string;
}

/** Runs `fn` over `items` with at most `width` in flight. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

describe('crash safety: a writ server killed with SIGKILL under load', () => {
  let home: string;
  let admin: Signer;
  let tenant: string;
  const children: ServerProcess[] = [];
  const sent: Sent[] = [];

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'writ-crash-'));
    const init = await initHome(home, { port: 0 });
    tenant = init.tenant;
    admin = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
    // The default rate limit (200/min per actor) would turn the load into RATE_LIMITED answers.
    const file = join(home, 'config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), limits: { rate: 100_000_000, windowSeconds: 60 } }, null, 2));
  });

  after(async () => {
    for (const child of children) await child.kill();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  function command(client: number, n: number): Sent {
    const product = (client + n) % 3 !== 0;
    const input = product
      ? { action: 'UpsertProduct', payload: { sku: `sku-${Math.floor(Math.random() * SKUS)}`, name: `from ${client}/${n}`, price: { amount: n, currency: 'EUR' } } }
      : { action: 'SaveDraftPage', payload: { pageId: `page-${Math.floor(Math.random() * PAGES)}`, title: `from ${client}/${n}`, blocks: [{ type: 'text', n }] } };
    const { envelope, commandHash } = signEnvelope(input, admin, { tenant });
    const target = product ? `product/${(input.payload as { sku: string }).sku}` : `page/${(input.payload as { pageId: string }).pageId}`;
    return { requestId: envelope.requestId, commandHash, target, text: JSON.stringify(envelope) };
  }

  /** One client: submits fresh commands one after another until the server stops answering. */
  async function load(url: string, client: number, unexpected: string[]): Promise<void> {
    for (let n = 0; ; n++) {
      const cmd = command(client, n);
      // Recorded before sending: the server may apply it even if the answer never arrives.
      sent.push(cmd);
      let status: number;
      let text: string;
      try {
        const res = await fetch(`${url}/v1/commands`, { method: 'POST', body: cmd.text, headers: { 'content-type': 'application/json' } });
        status = res.status;
        text = await res.text();
      } catch {
        return; // killed: this answer is lost
      }
      if (status === 200) cmd.ack = text;
      else unexpected.push(`${status} ${text}`);
    }
  }

  /** The OK records of the admin's commands, by requestId. */
  function okRecords(ledger: readonly LedgerEntry[]): Map<string, LedgerEntry[]> {
    const byRequest = new Map<string, LedgerEntry[]>();
    for (const e of ledger) {
      if (e.record.outcome !== 'OK' || e.record.actor !== 'admin') continue;
      const list = byRequest.get(e.record.requestId) ?? [];
      list.push(e);
      byRequest.set(e.record.requestId, list);
    }
    return byRequest;
  }

  /**
   * The invariants after a restart: chains verify, each acknowledged command has exactly one OK
   * record (the acknowledged one), no command has two, and every touched entity's version equals
   * the number of OK records naming it, those records carrying versions 1..n in log order.
   */
  async function verifyState(url: string, when: string): Promise<Map<string, LedgerEntry[]>> {
    const ledger = await readLedgerOverHttp(url, { ...admin, tenant });
    assert.deepEqual(chainProblems(ledger), [], `${when}: the hash chain does not verify`);
    const rejected = ledger.filter((e) => e.record.actor === 'admin' && e.record.outcome !== 'OK');
    assert.deepEqual(rejected.map((e) => `${e.record.requestId} ${e.record.code}`), [], `${when}: valid commands were rejected`);
    const ok = okRecords(ledger);
    const known = new Set(sent.map((s) => s.requestId));
    for (const [requestId, list] of ok) {
      assert.ok(known.has(requestId), `${when}: an OK record for ${requestId}, which no client sent`);
      assert.equal(list.length, 1, `${when}: ${requestId} was applied ${list.length} times`);
    }
    for (const s of sent) {
      const list = ok.get(s.requestId) ?? [];
      if (s.ack === undefined) continue;
      assert.equal(list.length, 1, `${when}: acknowledged ${s.requestId} has ${list.length} OK records`);
      const [rec] = list;
      assert.equal(rec.record.commandHash, s.commandHash);
      const receipt = (JSON.parse(s.ack) as { receipt: { index: number; leafHash: string } }).receipt;
      assert.equal(rec.index, receipt.index, `${when}: ${s.requestId} is not at the index its receipt named`);
      assert.equal(rec.leafHash, receipt.leafHash);
    }
    const byTarget = new Map<string, number[]>();
    for (const e of ledger) {
      if (e.record.outcome === 'OK' && e.record.actor === 'admin' && e.record.target) byTarget.set(e.record.target, [...(byTarget.get(e.record.target) ?? []), e.record.version ?? -1]);
    }
    for (const [target, versions] of byTarget) {
      assert.deepEqual(versions, versions.map((_, i) => i + 1), `${when}: ${target} records carry versions ${versions.join(',')}`);
      const res = await signedGet(url, `/v1/entities/${tenant}/${target}`, { ...admin, tenant });
      const entity = (await res.json()) as { version: number };
      assert.equal(entity.version, versions.length, `${when}: ${target} is at version ${entity.version} after ${versions.length} OK records`);
    }
    return ok;
  }

  /**
   * Retries every command ever sent with its exact envelope: acknowledged ones must get their stored
   * answer byte for byte with Idempotent-Replayed; lost ones are replayed if they were applied, and
   * applied now if they were not. Afterwards every sent command is applied exactly once.
   */
  async function retryAll(url: string, ok: Map<string, LedgerEntry[]>, when: string): Promise<void> {
    await pool(sent, CLIENTS, async (s) => {
      const res = await fetch(`${url}/v1/commands`, { method: 'POST', body: s.text, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      checkAnswer(res.status, res.headers.get('content-type'), text, `${when}: retry of ${s.requestId}`);
      assert.equal(res.status, 200, `${when}: retry of ${s.requestId}: ${text}`);
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      if (s.ack !== undefined) {
        assert.equal(text, s.ack, `${when}: the retry of acknowledged ${s.requestId} did not get the stored response`);
        assert.ok(replayed, `${when}: the retry of acknowledged ${s.requestId} is not marked Idempotent-Replayed`);
      } else {
        assert.equal(replayed, ok.has(s.requestId), `${when}: lost ${s.requestId} was ${ok.has(s.requestId) ? 'applied but not replayed' : 'not applied but answered as a replay'}`);
        s.ack = text;
      }
    });
    const after = await verifyState(url, `${when}, after retries`);
    for (const s of sent) assert.equal(after.get(s.requestId)?.length, 1, `${when}: ${s.requestId} is not applied exactly once after its retry`);
  }

  it('keeps every acknowledged command exactly once across repeated kills, with verifiable chains and byte-identical replays', async (t) => {
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      const server = await ServerProcess.start(home);
      children.push(server);
      if (cycle > 0) {
        const when = `after kill ${cycle}`;
        const ok = await verifyState(server.url, when);
        const lost = sent.filter((s) => s.ack === undefined);
        t.diagnostic(`${when}: ${sent.length} sent, ${lost.length} answers lost, ${lost.filter((s) => ok.has(s.requestId)).length} of those applied`);
        await retryAll(server.url, ok, when);
      }
      if (cycle === CYCLES) {
        await server.stop();
        break;
      }
      const unexpected: string[] = [];
      const before = sent.length;
      const clients = Array.from({ length: CLIENTS }, (_, i) => load(server.url, i, unexpected));
      // Kill at a random moment after the first acknowledgement (the delays are never asserted on).
      for (let waited = 0; !sent.slice(before).some((s) => s.ack !== undefined) && waited < 20_000; waited += 10) await sleep(10);
      await sleep(Math.random() * 1500);
      await server.kill();
      await Promise.all(clients);
      assert.deepEqual(unexpected.slice(0, 5), [], `cycle ${cycle}: a client got an answer other than 200 under load`);
      assert.ok(sent.slice(before).some((s) => s.ack !== undefined), `cycle ${cycle}: no command was acknowledged before the kill; ${server.output}`);
    }
    assert.ok(sent.length > CYCLES * CLIENTS, `only ${sent.length} commands were sent`);
  });
});
