import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadPrivateKey } from '../../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../../src/home/init.js';
import { signEnvelope, type Signer } from '../../src/sdk/sign.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { LOCKS } from '../../src/store/postgres/locks.js';
import { chainProblems, readLedgerFromStore, assertAppliedAtMostOnce, type LedgerEntry } from './robustness.js';

/** Helpers for tests of several `writ serve` processes on one PostgreSQL database. */

/**
 * A home on the database at `url` (writ init --store) and `copies` more homes with the same
 * config.json and keys, as docs/deploy.md tells each machine to have; returns them all.
 */
export async function sharedHomes(url: string, copies: number, config: Record<string, unknown>): Promise<{ homes: string[]; admin: Signer; tenant: string }> {
  const first = mkdtempSync(join(tmpdir(), 'writ-pg-home-'));
  const init = await initHome(first, { port: 0, store: url });
  const file = join(first, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }, null, 2));
  const homes = [first];
  for (let i = 0; i < copies; i++) {
    const home = mkdtempSync(join(tmpdir(), 'writ-pg-home-'));
    for (const part of ['config.json', 'keys', 'policies']) cpSync(join(first, part), join(home, part), { recursive: true });
    homes.push(home);
  }
  return { homes, admin: { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID }, tenant: init.tenant };
}

export interface Sent {
  readonly requestId: string;
  readonly status: number;
  readonly body: any;
  readonly retryAfter: string | null;
  /** The answer was a replay of a stored outcome (Idempotent-Replayed: true). */
  readonly replayed?: boolean;
}

/** Signs an UpsertProduct as `admin`. */
export function product(admin: Signer, tenant: string, sku: string, n: number): Record<string, any> {
  return signEnvelope({ action: 'UpsertProduct', payload: { sku, name: `Tea ${n}`, price: { amount: 100 + n, currency: 'EUR' } } }, admin, { tenant }).envelope as unknown as Record<string, any>;
}

/** POSTs an envelope; a refused connection (the process is gone) answers status 0. */
export async function post(url: string, envelope: unknown): Promise<Sent> {
  const requestId = (envelope as { requestId: string }).requestId;
  try {
    const res = await fetch(`${url}/v1/commands`, { method: 'POST', body: JSON.stringify(envelope), headers: { 'content-type': 'application/json' } });
    return { requestId, status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after'), replayed: res.headers.get('idempotent-replayed') === 'true' };
  } catch {
    return { requestId, status: 0, body: null, retryAfter: null };
  }
}

/**
 * Sends until the command is acknowledged, as a client must: a 503, or a process that is gone
 * (status 0), is retried with the same envelope on the process `to()` picks then. Pushes the
 * requestId onto `acknowledged`.
 */
export async function acknowledge(envelope: Record<string, any>, to: () => { readonly url: string }, acknowledged: string[], attempts = 50): Promise<Sent> {
  for (let attempt = 0; ; attempt++) {
    const sent = await post(to().url, envelope);
    if (sent.status === 200) {
      acknowledged.push(sent.requestId);
      return sent;
    }
    assert.ok((sent.status === 503 || sent.status === 0) && attempt < attempts, `HTTP ${sent.status}: ${JSON.stringify(sent.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The application_name of the connection holding a lease's lock in this database (advisory locks are per database; other tests' databases share the server), or null. */
export async function leaseHolder(url: string, role: 'signer' | 'outbox'): Promise<string | null> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string }>(
      "SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.granted",
      [...LOCKS[role]],
    );
    return rows[0]?.name ?? null;
  } finally {
    await c.end();
  }
}

/** The OS pid of the writ process a connection's application_name names (`writ serve pid 123 (signer)`). */
export function pidOf(applicationName: string | null): number | null {
  const m = /pid (\d+)/.exec(applicationName ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Reads the whole ledger straight from the database and checks it: every log dense from 0 and
 * chained, no requestId applied twice, and every acknowledged command applied exactly once.
 */
export async function checkLedger(url: string, acknowledged: readonly string[], answers?: ReadonlyMap<string, unknown>): Promise<LedgerEntry[]> {
  const store = await PostgresStore.open({ url, readOnly: true });
  try {
    const all = await readLedgerFromStore(store);
    assert.deepEqual(chainProblems(all), []);
    assertAppliedAtMostOnce(all);
    const applied = new Set(all.filter((e) => e.record.outcome === 'OK').map((e) => e.record.requestId));
    const missing = acknowledged.filter((r) => !applied.has(r));
    // What the database holds of a missing command (its stored answer, if any), to tell where it went.
    const traces = await Promise.all(missing.slice(0, 5).map(async (r) => ({ requestId: r, outcomes: (await store.findOutcomes('default', r)).map((o) => ({ status: o.httpStatus, scroll: o.scroll, index: o.index })), records: all.filter((e) => e.record.requestId === r).map((e) => `${e.scroll}#${e.index} ${e.record.outcome} ${e.record.code ?? ''}`), answer: answers?.get(r) })));
    assert.deepEqual(missing, [], `${missing.length} acknowledged commands are not in the ledger: ${JSON.stringify(traces)}`);
    return all;
  } finally {
    await store.close();
  }
}

/** Waits until the latest checkpoint of a log covers `size` records (or fails after `ms`). */
export async function checkpointCovers(url: string, tenant: string, scroll: string, size: number, ms = 15_000): Promise<void> {
  const store = await PostgresStore.open({ url, readOnly: true });
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const cp = await store.latestCheckpoint(tenant, scroll);
      if ((cp?.size ?? 0) >= size) return;
      assert.ok(Date.now() < deadline, `no checkpoint of ${tenant}/${scroll} covers ${size} records after ${ms} ms (latest ${cp?.size ?? 0})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await store.close();
  }
}
