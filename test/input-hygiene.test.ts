import { strict as assert } from 'node:assert';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeEachBackend } from './support/backends.js';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config/config.js';
import { openWrit } from '../src/writ.js';
import { newSigner, startHarness, type Harness } from './support/harness.js';
import { testOutbox } from './support/outbox.js';
import { assertError, assertOk, assignRole, ManualClock, product, tempDir } from './support/stage-helpers.js';

const HOUR = 3600_000;

describeEachBackend('input hygiene: impossible RFC 3339 date-times', (backend) => {
  const clock = new ManualClock();
  let h: Harness;

  before(async () => {
    h = await startHarness({}, { now: clock.now, backend });
  });
  after(async () => {
    await h.close();
  });

  // Each is within the skew of the clock, so only its impossibility can refuse it: Date.parse reads
  // 2026-02-31 as 2026-03-03 and 24:00 as 00:00 of the next day, so both would otherwise pass.
  for (const [timestamp, rolledTo, why] of [
    ['2026-02-31T10:00:00Z', '2026-03-03T10:00:00Z', /February 2026 has 28 days/],
    ['2026-01-01T24:00:00Z', '2026-01-02T00:00:00Z', /hour 24/],
    ['2026-04-31T10:00:00Z', '2026-05-01T10:00:00Z', /April 2026 has 30 days/],
  ] as const) {
    it(`refuses the envelope timestamp ${timestamp} with INVALID_ENVELOPE, saying why`, async () => {
      clock.ms = Date.parse(rolledTo);
      const res = await h.post(h.sign('UpsertProduct', product(`ts-${randomUUID()}`), { timestamp }));
      assertError(res, 'INVALID_ENVELOPE');
      assert.match(res.body.message, /"timestamp"/);
      assert.match(res.body.message, why);
    });
  }

  it('still accepts 29 February of a leap year', async () => {
    clock.ms = Date.parse('2028-02-29T10:00:00Z');
    assertOk(await h.post(h.sign('UpsertProduct', product('leap-day'), { timestamp: '2028-02-29T10:00:00Z' })));
    clock.ms = Date.now();
  });

  it("refuses a leap second or an impossible day in a payload's date-time (a key's notAfter), which would never compare", async () => {
    // 23:59:60 is a real leap second, but no clock here can hold it (Date.parse gives NaN), so a key
    // ending then would never expire.
    for (const notAfter of ['2016-12-31T23:59:60Z', '2027-02-30T00:00:00Z', '2027-01-01T10:00:00+24:00']) {
      const k = newSigner(`dt-${randomUUID()}#1`);
      const res = await h.post(h.sign('writ.RegisterKey', { actor: 'dt-user', keyId: k.keyId, alg: 'ed25519', publicKey: k.publicPem, notAfter }));
      assertError(res, 'INVALID_PAYLOAD', notAfter);
    }
  });
});

describeEachBackend('input hygiene: a body that starts with a byte order mark', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(async () => {
    await h.close();
  });

  it('is refused with INVALID_ENVELOPE: RFC 8259 §8.1 forbids it, and two parsers may read such bytes differently', async () => {
    const text = JSON.stringify(h.sign('UpsertProduct', product('bom')));
    const res = await h.post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    assertError(res, 'INVALID_ENVELOPE');
    assert.match(res.body.message, /byte order mark/);
    assertOk(await h.post(text));
  });
});

describeEachBackend('input hygiene: key validity periods', (backend) => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, { backend });
  });
  after(async () => {
    await h.close();
  });

  it('refuses writ.RegisterKey of a key whose notAfter is already past, with INVALID_PAYLOAD', async () => {
    const k = newSigner('past#1');
    const notAfter = new Date(Date.now() - HOUR).toISOString();
    const res = await h.post(h.sign('writ.RegisterKey', { actor: 'past', keyId: k.keyId, alg: 'ed25519', publicKey: k.publicPem, notAfter }));
    assertError(res, 'INVALID_PAYLOAD');
    assert.match(res.body.message, /notAfter .* is already past/);
  });

  it('refuses notBefore equal to notAfter, and accepts a period that is still to come', async () => {
    const k = newSigner('period#1');
    const at = new Date(Date.now() + HOUR).toISOString();
    const same = await h.post(h.sign('writ.RegisterKey', { actor: 'period', keyId: k.keyId, alg: 'ed25519', publicKey: k.publicPem, notBefore: at, notAfter: at }));
    assertError(same, 'INVALID_PAYLOAD');
    const later = new Date(Date.now() + 2 * HOUR).toISOString();
    assertOk(await h.post(h.sign('writ.RegisterKey', { actor: 'period', keyId: k.keyId, alg: 'ed25519', publicKey: k.publicPem, notBefore: at, notAfter: later })));
  });
});

describeEachBackend('input hygiene: bearer token lifetimes', (backend) => {
  const dir = tempDir();
  const secret = randomBytes(32);
  const file = join(dir, 'jwt.secret');
  writeFileSync(file, secret, { mode: 0o600 });
  let h: Harness;

  const body = (sku: string) => ({ v: 1, action: 'UpsertProduct', timestamp: new Date().toISOString(), payload: product(sku) });
  const seconds = (ms: number) => Math.floor(ms / 1000);
  function token(claims: { exp?: number; iat?: number; nbf?: number }): Promise<string> {
    return new SignJWT({ tenant: 'default', nonce: randomUUID(), ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('tok-user').setJti(randomUUID()).sign(secret);
  }
  const post = async (sku: string, claims: { exp?: number; iat?: number; nbf?: number }) => h.post(body(sku), { authorization: `Bearer ${await token(claims)}` });

  before(async () => {
    h = await startHarness({ auth: { require: 'either', jwt: { hs256SecretFile: file, publicKeyFiles: [] } } }, { backend });
    await assignRole(h, 'tok-user', 'editor');
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a token without exp (it would be valid for ever) with UNAUTHENTICATED', async () => {
    const res = await post('no-exp', { iat: seconds(Date.now()) });
    assertError(res, 'UNAUTHENTICATED');
    assert.match(res.body.message, /"exp"/);
  });

  it('refuses a token that lives longer than auth.jwt.maxLifetimeSeconds (default 3600)', async () => {
    const now = Date.now();
    const long = await post('long-life', { iat: seconds(now), exp: seconds(now + 10 * HOUR) });
    assertError(long, 'UNAUTHENTICATED');
    assert.match(long.body.message, /lifetime/);
    // Without iat, what is left of its life counts.
    const noIat = await post('long-no-iat', { exp: seconds(now + 10 * HOUR) });
    assertError(noIat, 'UNAUTHENTICATED');
    assertOk(await post('one-hour', { iat: seconds(now), exp: seconds(now + HOUR) }));
  });

  it('refuses a token issued (iat) or valid from (nbf) further in the future than the clock skew', async () => {
    const now = Date.now();
    const iat = await post('future-iat', { iat: seconds(now + 20 * 60_000), exp: seconds(now + 30 * 60_000) });
    assertError(iat, 'UNAUTHENTICATED');
    assert.match(iat.body.message, /"iat"/);
    const nbf = await post('future-nbf', { nbf: seconds(now + 20 * 60_000), exp: seconds(now + 30 * 60_000) });
    assertError(nbf, 'UNAUTHENTICATED');
    assert.match(nbf.body.message, /"nbf"/);
    // Within the skew (300 s by default), a clock a little ahead is forgiven.
    assertOk(await post('near-iat', { iat: seconds(now + 60_000), exp: seconds(now + 30 * 60_000) }));
  });
});

describeEachBackend('input hygiene: short shared secrets are refused at start', (backend) => {
  let h: Harness;
  const dir = tempDir();
  before(async () => {
    h = await startHarness({}, { backend });
    await h.writ.close();
  });
  after(async () => {
    await h.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  function secretFile(name: string, content: string | Buffer): string {
    const file = join(dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  }

  it('refuses a webhook secret shorter than the 24 bytes of Standard Webhooks, saying how to make one', async () => {
    const file = secretFile('short.whsec', `whsec_${randomBytes(16).toString('base64')}\n`);
    const config = loadConfig(h.home, testOutbox([{ name: 'short', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secretFile: file }]));
    await assert.rejects(openWrit(config), /at least 24 bytes.*openssl rand -base64 32/);
  });

  it('refuses an HS256 secret of auth.hmacKeys or auth.jwt shorter than 32 bytes (RFC 7518 §3.2)', async () => {
    const short = secretFile('short.hs', randomBytes(16));
    const mac = loadConfig(h.home, { auth: { hmacKeys: [{ tenant: 'default', actor: 'mac', keyId: 'mac#1', secretFile: short }] } });
    await assert.rejects(openWrit(mac), /auth\.hmacKeys.*mac#1.*16 bytes.*at least 32.*openssl rand 32/);
    const jwt = loadConfig(h.home, { auth: { require: 'either', jwt: { hs256SecretFile: short, publicKeyFiles: [] } } });
    await assert.rejects(openWrit(jwt), /auth\.jwt\.hs256SecretFile.*16 bytes.*at least 32/);
  });

  it('starts with secrets of the minimum length', async () => {
    const whsec = secretFile('ok.whsec', `whsec_${randomBytes(24).toString('base64')}\n`);
    const hs = secretFile('ok.hs', randomBytes(32));
    const config = loadConfig(h.home, {
      ...testOutbox([{ name: 'ok', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secretFile: whsec }]),
      auth: { require: 'either', hmacKeys: [{ tenant: 'default', actor: 'mac', keyId: 'mac#1', secretFile: hs }], jwt: { hs256SecretFile: hs, publicKeyFiles: [] } },
    });
    const writ = await openWrit(config);
    await writ.close();
  });
});
