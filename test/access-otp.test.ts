import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { decodeJwt } from 'jose';
import { loadConfig } from '../src/config/config.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import type { Signer } from '../src/sdk/sign.js';
import { rid, startHarness, type Harness } from './support/harness.js';
import { assertError, assertOk, ManualClock } from './support/stage-helpers.js';
import { fileBytes, storedRows } from './support/db-scan.js';

/**
 * One-time codes (docs/security.md, "Access revocation and one-time codes"): IssueOtp answers a code
 * once, and nothing writ stores, logs or sends on carries it; ExchangeOtp trades it once, within its
 * TTL and a few attempts, for a short-lived bearer JWT that writ's own bearer gate accepts.
 */
describeEachBackend('IssueOtp and ExchangeOtp', (backend) => {
  const clock = new ManualClock();
  const dir = mkdtempSync(join(tmpdir(), 'writ-otp-'));
  const secretFile = join(dir, 'jwt.secret');
  writeFileSync(secretFile, randomBytes(32), { mode: 0o600 });
  let h: Harness;
  let gate: Signer;
  let pam: Signer;
  const output: string[] = [];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const issued: string[] = [];

  const post = (action: string, payload: Record<string, unknown>, signer?: Signer, extra: Record<string, unknown> = {}) => h.post(h.sign(action, payload, { timestamp: clock.iso(), ...extra }, signer));
  async function issue(actor: string, ttlSeconds?: number): Promise<string> {
    const res = assertOk(await post('IssueOtp', { actor, ...(ttlSeconds ? { ttlSeconds } : {}) }));
    assert.match(res.result.code, /^[0-9]{8}$/);
    issued.push(res.result.code);
    return res.result.code;
  }
  const exchange = (actor: string, code: string, signer = gate) => post('ExchangeOtp', { actor, code }, signer);

  before(async () => {
    // Everything writ writes to stdout and stderr while codes are issued is kept, to be searched.
    process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => (output.push(String(chunk)), writes.out(chunk as string, ...(rest as [])))) as typeof process.stdout.write;
    process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => (output.push(String(chunk)), writes.err(chunk as string, ...(rest as [])))) as typeof process.stderr.write;
    h = await startHarness({ auth: { require: 'either', jwt: { hs256SecretFile: secretFile, publicKeyFiles: [] } } }, { now: clock.now, backend });
    gate = await h.actor('gate', ['otp-gateway']);
    pam = await h.actor('pam', ['editor']);
    await h.actor('ann', ['admin']);
    for (const actor of ['pam', 'ann', 'quinn']) assertOk(await post('UpsertProfile', { actor, displayName: actor }));
  });
  after(async () => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bounds the code TTL to 30–3600 seconds', async () => {
    assertError(await post('IssueOtp', { actor: 'pam', ttlSeconds: 29 }), 'INVALID_PAYLOAD');
    assertError(await post('IssueOtp', { actor: 'pam', ttlSeconds: 3601 }), 'INVALID_PAYLOAD');
  });

  it('issues a code only to an existing profile', async () => {
    assertError(await post('IssueOtp', { actor: 'nobody' }), 'NOT_FOUND');
  });

  it('exchanges a code once for a short-lived JWT that the bearer gate accepts as the profile', async () => {
    const code = await issue('pam');
    const res = assertOk(await exchange('pam', code));
    const token = res.result.token as string;
    const claims = decodeJwt(token);
    assert.equal(claims.sub, 'pam');
    assert.equal(claims.tenant, h.tenant);
    assert.ok((claims.exp as number) - (claims.iat as number) <= 900, 'the token lives at most 15 minutes');
    const cmd = { v: 1, action: 'UpsertProduct', requestId: rid(), nonce: rid(), timestamp: clock.iso(), payload: { sku: 'otp-mug', name: 'Mug', price: { amount: 1, currency: 'EUR' } } };
    const used = assertOk(await h.post(cmd, { authorization: `Bearer ${token}` }));
    assert.equal(used.result.id, 'otp-mug');
    const second = await exchange('pam', code);
    assertError(second, 'OTP_USED');
    assert.equal(second.body.result, undefined);
  });

  it('refuses a code past its TTL with OTP_EXPIRED', async () => {
    const code = await issue('pam', 30);
    clock.advance(31_000);
    assertError(await exchange('pam', code), 'OTP_EXPIRED');
  });

  it('bounds guessing: after 5 wrong codes even the right one is refused', async () => {
    const code = await issue('pam');
    const wrong = (Number(code) + 1) % 100_000_000;
    for (let i = 0; i < 5; i++) {
      const res = await exchange('pam', String((wrong + i) % 100_000_000).padStart(8, '0'));
      assertError(res, 'OTP_INVALID');
    }
    assertError(await exchange('pam', code), 'OTP_EXPIRED');
  });

  it('replaces the previous code when a new one is issued', async () => {
    const first = await issue('pam');
    const second = await issue('pam');
    if (first !== second) assertError(await exchange('pam', first), 'OTP_INVALID');
    assertOk(await exchange('pam', second));
  });

  it('answers a retry of IssueOtp (same requestId) without the code', async () => {
    const env = h.sign('IssueOtp', { actor: 'pam' }, { timestamp: clock.iso() });
    const first = assertOk(await h.post(env));
    issued.push(first.result.code);
    const again = await h.post(env);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body.result.code, undefined);
  });

  it('refuses a code for an admin unless the admin asks for it itself (its credentials are its own)', async () => {
    assertError(await post('IssueOtp', { actor: 'ann' }), 'FORBIDDEN');
  });

  it('lets no actor without the role otp-gateway or admin exchange a code', async () => {
    const code = await issue('pam');
    const other = await h.actor('pam2', ['editor']);
    assertError(await exchange('pam', code, other), 'FORBIDDEN');
  });

  it('shows an issued code\'s state (never the code) to its actor and admins only, as keys and roles', async () => {
    await issue('pam');
    const editor = await h.actor('ed', ['editor']);
    const path = `/v1/entities/${h.tenant}/otp/pam`;
    assertError(await h.getAs(path, editor), 'FORBIDDEN');
    assert.equal((await h.getAs(path, pam)).status, 200);
    const mine = await h.get(path);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.doc.status, 'issued');
  });

  it('keeps every code it issued out of the database (state, ledger bodies, outcomes), the outbox and the logs', async () => {
    assert.ok(issued.length >= 5);
    // SQLite: the database and WAL files' bytes; PostgreSQL: every row of every table.
    const stored = backend === 'sqlite' ? fileBytes(join(h.home, 'data', 'writ.db')) : await storedRows(h);
    const events = (await h.writ.store.readStoredOutbox(0, 100_000)).map((e) => e.data).join('\n');
    for (const code of issued) {
      assert.ok(!stored.includes(code), `code ${code} is in the database`);
      assert.ok(!events.includes(code), `code ${code} is in the outbox`);
      assert.ok(!output.join('').includes(code), `code ${code} was logged`);
    }
  });

  it('replays to the same state under writ verify: the hash is derived, the exchanges are withheld bodies', async () => {
    const report = await verifyHome(loadConfig(h.home), { progress: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems, null, 1));
    assert.ok(report.state!.bodies.withheld >= 2);
  });
});
