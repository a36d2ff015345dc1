import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_CODES, CODES, type Code } from '../../src/core/codes.js';
import type { Signer } from '../../src/sdk/sign.js';
import type { Harness } from './harness.js';
import type { LeafRecord } from './reference.js';

/** Helpers shared by the tests of the first pipeline stages (intake … limits). */

/** The answer fields DESIGN §3 allows (`details` carries e.g. VERSION_CONFLICT's current version). */
const ANSWER_FIELDS = new Set(['status', 'code', 'message', 'requestId', 'commandHash', 'result', 'receipt', 'approval', 'details']);

/** Asserts the DESIGN §3 answer shape of an error answer carrying `code`, and its HTTP status. */
export function assertError(res: { status: number; body: any }, code: Code, context = ''): void {
  const where = `${context}${context ? ': ' : ''}${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`;
  assert.equal(typeof res.body, 'object', `answer is not JSON: ${where}`);
  assert.equal(res.body.code, code, where);
  assert.equal(res.status, CODES[code].http, where);
  assert.equal(res.body.status, 'ERROR', where);
  assert.ok(ALL_CODES.includes(res.body.code), where);
  assert.equal(typeof res.body.message, 'string', where);
  assert.ok(res.body.message.length > 0, where);
  assert.ok('requestId' in res.body, `answer has no requestId: ${where}`);
  assert.ok('commandHash' in res.body, `answer has no commandHash: ${where}`);
  for (const key of Object.keys(res.body)) assert.ok(ANSWER_FIELDS.has(key), `unexpected answer field ${key}: ${where}`);
}

/** Asserts an OK answer (DESIGN §3) and returns it. */
export function assertOk(res: { status: number; body: any; raw?: string }): any {
  assert.equal(res.status, 200, res.raw ?? JSON.stringify(res.body));
  assert.equal(res.body.status, 'OK', res.raw ?? JSON.stringify(res.body));
  assert.match(res.body.commandHash, /^[0-9a-f]{64}$/);
  for (const key of Object.keys(res.body)) assert.ok(ANSWER_FIELDS.has(key), `unexpected answer field ${key}`);
  return res.body;
}

/** A valid UpsertProduct payload. */
export function product(sku: string, amount = 100): Record<string, unknown> {
  return { sku, name: `Product ${sku}`, price: { amount, currency: 'EUR' } };
}

/** A clock the tests move by hand (passed to openWrit as `now`). */
export class ManualClock {
  constructor(public ms: number = Date.now()) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
  iso(): string {
    return new Date(this.ms).toISOString();
  }
}

/** One parsed ledger record (the leaf JSON) of a log. */
export type Leaf = LeafRecord;

/** Every record of one log, read from the store and parsed from the exact leaf bytes. */
export async function leaves(h: Harness, scroll: string, tenant = h.tenant): Promise<Leaf[]> {
  const out: Leaf[] = [];
  for (let from = 0; ; from += 1000) {
    const rows = await h.writ.store.readLedger(tenant, scroll, from, 1000);
    out.push(...rows.map((r) => JSON.parse(r.leaf.toString('utf8')) as Leaf));
    if (rows.length < 1000) return out;
  }
}

/** Records of a log for one requestId. */
export async function leavesFor(h: Harness, scroll: string, requestId: string): Promise<Leaf[]> {
  return (await leaves(h, scroll)).filter((l) => l.requestId === requestId);
}

/** Total number of ledger records over all logs, as /healthz reports it. */
export async function ledgerSize(h: Harness): Promise<number> {
  const health = await h.get('/healthz');
  assert.equal(health.status, 200);
  return (health.body.logs as Array<{ size: number }>).reduce((n, l) => n + l.size, 0);
}

/** A raw POST /v1/commands over a real socket (fetch), keeping the exact response text. */
export async function httpPost(base: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; raw: string; body: any }> {
  const res = await fetch(new URL('/v1/commands', base), { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });
  const raw = await res.text();
  let parsed: any = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    /* keep the text */
  }
  return { status: res.status, headers: res.headers, raw, body: parsed };
}

/** A fresh temporary folder for key and secret files a config points to. */
export function tempDir(prefix = 'writ-stage-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a random HS256 secret to `dir/name` and returns its path and bytes. */
export function writeSecret(dir: string, name: string): { file: string; secret: Buffer } {
  const secret = randomBytes(32);
  const file = join(dir, name);
  writeFileSync(file, secret, { mode: 0o600 });
  return { file, secret };
}

/** An HS256 envelope signer for a key configured in auth.hmacKeys. */
export function hmacSigner(keyId: string, secret: Uint8Array): Signer {
  return { key: { alg: 'hs256', secret }, keyId };
}

/** Registers a key for `actor` (and gives it roles) through signed admin commands. */
export async function registerKey(h: Harness, actor: string, signer: Signer & { publicPem: string }, extra: Record<string, unknown> = {}, roles: readonly string[] = []): Promise<void> {
  const alg = signer.key.alg;
  const reg = await h.post(h.sign('writ.RegisterKey', { actor, keyId: signer.keyId, alg, publicKey: signer.publicPem, ...extra }));
  assertOk(reg as { status: number; body: any; raw: string });
  for (const role of roles) await assignRole(h, actor, role);
}

/** Gives `actor` a role through a signed admin command (no key needed, e.g. for a JWT subject). */
export async function assignRole(h: Harness, actor: string, role: string, extra: Record<string, unknown> = {}): Promise<void> {
  assertOk(await h.post(h.sign('AssignRole', { actor, role }, extra)));
}
