import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CODES } from '../src/core/codes.js';
import { loadTotpSecret, provisionTotpSecret, totpSecretPath, TotpSecretError } from '../src/approvals/totp-secret.js';
import { base32Decode, base32Encode, hotp, matchWindow, otpauthUri, totpAt, totpForWindow, TotpSecret, windowAt } from '../src/approvals/totp.js';
import { diagnoseCode } from '../src/transports/cli/totp.js';
import { runWrit } from './support/cli.js';
import { refHotp } from './support/reference.js';

/** RFC 6238 on the independent HOTP of test/support/reference.ts. */
function refTotp(key: Uint8Array, unixSeconds: number, digits = 6): string {
  return refHotp(key, Math.floor(unixSeconds / 30), digits);
}

/** The SHA-1 seed of RFC 6238 Appendix B and RFC 4226 Appendix D. */
const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');
const RFC_SECRET = TotpSecret.fromBytes(RFC_KEY);

/** RFC 6238 Appendix B, the SHA-1 rows: {description, input: Unix seconds, expect: 8-digit TOTP}. */
const RFC6238_SHA1 = [
  { description: '1970-01-01 00:00:59', input: 59, expect: '94287082' },
  { description: '2005-03-18 01:58:29', input: 1111111109, expect: '07081804' },
  { description: '2005-03-18 01:58:31', input: 1111111111, expect: '14050471' },
  { description: '2009-02-13 23:31:30', input: 1234567890, expect: '89005924' },
  { description: '2033-05-18 03:33:20', input: 2000000000, expect: '69279037' },
  { description: '2603-10-11 11:33:20', input: 20000000000, expect: '65353130' },
];

/** RFC 4226 Appendix D: HOTP values for counters 0 to 9. */
const RFC4226_HOTP = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

/** RFC 4648 §10 base32 test vectors. */
const RFC4648_BASE32 = [
  { input: '', expect: '' },
  { input: 'f', expect: 'MY======' },
  { input: 'fo', expect: 'MZXQ====' },
  { input: 'foo', expect: 'MZXW6===' },
  { input: 'foob', expect: 'MZXW6YQ=' },
  { input: 'fooba', expect: 'MZXW6YTB' },
  { input: 'foobar', expect: 'MZXW6YTBOI======' },
];

describe('totp: RFC vectors', () => {
  for (const v of RFC6238_SHA1) {
    it(`gives the RFC 6238 Appendix B SHA-1 code at ${v.description} (8 digits, and its 6-digit truncation)`, () => {
      assert.equal(hotp(RFC_SECRET, Math.floor(v.input / 30), 8), v.expect);
      assert.equal(totpAt(RFC_SECRET, v.input * 1000), v.expect.slice(2));
    });
  }

  it('gives the RFC 4226 Appendix D HOTP values for counters 0 to 9', () => {
    assert.deepEqual(RFC4226_HOTP.map((_, counter) => hotp(RFC_SECRET, counter)), RFC4226_HOTP);
  });

  it('encodes and decodes the RFC 4648 §10 base32 vectors (unpadded out, padded or not in)', () => {
    for (const v of RFC4648_BASE32) {
      assert.equal(base32Encode(Buffer.from(v.input)), v.expect.replace(/=+$/, ''));
      assert.equal(Buffer.from(base32Decode(v.expect)).toString(), v.input);
      assert.equal(Buffer.from(base32Decode(v.expect.replace(/=+$/, '').toLowerCase())).toString(), v.input);
    }
  });

  it('refuses malformed base32 without quoting it', () => {
    assert.throws(() => base32Decode('MZXW6YT1'), (e: Error) => /position 8/.test(e.message) && !e.message.includes('MZXW'));
    assert.throws(() => base32Decode('MZX'), /whole bytes/);
  });
});

describe('totp: against an independent implementation', () => {
  it('agrees with the node:crypto reference for random keys and times', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.integer({ min: 0, max: 2 ** 40 }), (key, seconds) => {
        const secret = TotpSecret.fromBase32(base32Encode(key));
        assert.equal(totpAt(secret, seconds * 1000), refTotp(key, seconds));
        assert.deepEqual(Buffer.from(base32Decode(base32Encode(key))), Buffer.from(key));
      }),
      { numRuns: 300 },
    );
  });

  it('matches the current window and one on each side, returning the matched window counter', () => {
    const now = 1_700_000_012_000;
    const w = windowAt(now);
    for (const offset of [-1, 0, 1]) assert.equal(matchWindow(RFC_SECRET, refTotp(RFC_KEY, (w + offset) * 30), now), w + offset);
    for (const offset of [-3, -2, 2, 3]) assert.equal(matchWindow(RFC_SECRET, refTotp(RFC_KEY, (w + offset) * 30), now), null);
    assert.equal(matchWindow(RFC_SECRET, refTotp(RFC_KEY, (w - 3) * 30), now, 10), w - 3);
  });

  it('takes a code with spaces, and refuses anything that is not six digits', () => {
    const now = 1_700_000_012_000;
    const code = totpAt(RFC_SECRET, now);
    assert.equal(matchWindow(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now), windowAt(now));
    for (const bad of ['', '12345', '1234567', 'abcdef', `${code}0`, `0${code}`]) assert.equal(matchWindow(RFC_SECRET, bad, now), null);
    assert.equal(matchWindow(RFC_SECRET, 123456 as unknown as string, now), null);
  });

  it('gives the same code for a secret and its base32 text', () => {
    assert.equal(totpForWindow(RFC_SECRET.toBase32(), 42), totpForWindow(RFC_SECRET, 42));
  });
});

describe('totp: secrets and provisioning URIs', () => {
  it('never shows a secret through JSON, strings or inspect', () => {
    const secret = TotpSecret.generate();
    const b32 = secret.toBase32();
    assert.equal(b32.length, 32);
    for (const shown of [JSON.stringify({ secret }), String(secret), `${secret}`, inspect(secret), inspect({ secret }, { showHidden: true })]) {
      assert.ok(!shown.includes(b32), shown);
    }
  });

  it('refuses secrets shorter than 128 bits (RFC 4226 §4)', () => {
    assert.throws(() => TotpSecret.fromBytes(new Uint8Array(15)), /at least 16 bytes/);
  });

  it('writes the Key Uri Format otpauth URI', () => {
    const uri = otpauthUri({ issuer: 'writ', account: 'ops box', secret: RFC_SECRET });
    assert.equal(uri, `otpauth://totp/writ:ops%20box?secret=${base32Encode(RFC_KEY)}&issuer=writ&algorithm=SHA1&digits=6&period=30`);
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.searchParams.get('secret'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.throws(() => otpauthUri({ issuer: 'a:b', account: 'c', secret: RFC_SECRET }), /colon/);
    assert.throws(() => otpauthUri({ issuer: 'writ', account: '', secret: RFC_SECRET }), /non-empty/);
  });
});

describe('totp: the secret file', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-totp-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('defaults to keys/totp.secret in the home and follows approvals.totpSecretFile', () => {
    assert.equal(totpSecretPath({ home: '/h' }), '/h/keys/totp.secret');
    assert.equal(totpSecretPath({ home: '/h', approvals: { totpSecretFile: 'secrets/t' } }), '/h/secrets/t');
    assert.equal(totpSecretPath({ home: '/h', approvals: { totpSecretFile: '/etc/writ/t' } }), '/etc/writ/t');
  });

  it('creates a base32 secret with mode 0600 once, then loads the same one', () => {
    const path = join(scratch, 'new', 'totp.secret');
    const first = provisionTotpSecret(path);
    assert.equal(first.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, 'utf8'), first.secret.toBase32() + '\n');
    const second = provisionTotpSecret(path);
    assert.equal(second.created, false);
    assert.equal(second.secret.toBase32(), first.secret.toBase32());
    assert.equal(loadTotpSecret(path).toBase32(), first.secret.toBase32());
  });

  it('refuses a file others may read (0644) or its group may (0640), saying how to fix it and not what it holds', () => {
    const path = join(scratch, 'loose.secret');
    const { secret } = provisionTotpSecret(path);
    for (const [mode, who] of [[0o644, 'every user'], [0o640, 'its group']] as const) {
      chmodSync(path, mode);
      assert.throws(
        () => loadTotpSecret(path),
        (e: unknown) => e instanceof TotpSecretError && e.problem === 'insecure' && e.message.includes(who) && e.message.includes(`chmod 600 ${path}`) && !e.message.includes(secret.toBase32()),
      );
      assert.throws(() => provisionTotpSecret(path), TotpSecretError);
    }
    chmodSync(path, 0o400);
    assert.equal(loadTotpSecret(path).toBase32(), secret.toBase32());
  });

  it('says how to create a missing file and refuses a malformed one without quoting it', () => {
    assert.throws(() => loadTotpSecret(join(scratch, 'none')), (e: unknown) => e instanceof TotpSecretError && e.problem === 'missing' && /writ totp provision/.test(e.message));
    const path = join(scratch, 'bad.secret');
    writeFileSync(path, 'NOT-BASE32-SECRET-1\n', { mode: 0o600 });
    assert.throws(() => loadTotpSecret(path), (e: unknown) => e instanceof TotpSecretError && e.problem === 'malformed' && !e.message.includes('NOT-BASE32'));
  });
});

describe('totp: diagnosing clock skew', () => {
  const now = 1_700_000_012_000;
  const w = windowAt(now);
  const codeAt = (offset: number) => refTotp(RFC_KEY, (w + offset) * 30);

  it('says a code of the current window is accepted', () => {
    assert.deepEqual(diagnoseCode(RFC_SECRET, codeAt(0), now), { accepted: true, offset: 0, serverWindow: w, message: `the code matches the current window (${w}); the airlock accepts it` });
  });

  it('says how far behind or ahead the authenticator is, and whether the airlock still accepts it', () => {
    const behind = diagnoseCode(RFC_SECRET, codeAt(-3), now);
    assert.equal(behind.accepted, false);
    assert.match(behind.message, /matches window -3 \(your authenticator is ~90 s behind\)/);
    const ahead = diagnoseCode(RFC_SECRET, codeAt(1), now);
    assert.equal(ahead.accepted, true);
    assert.match(ahead.message, /matches window \+1 \(your authenticator is ~30 s ahead\)/);
    assert.equal(diagnoseCode(RFC_SECRET, codeAt(10), now).offset, 10);
  });

  it('says when nothing within ±10 windows matches', () => {
    const d = diagnoseCode(RFC_SECRET, codeAt(11), now);
    assert.equal(d.offset, null);
    assert.match(d.message, /no window within ±10/);
  });
});

/** Waits until at least `margin` ms remain in the current 30 s window, so a child process sees the same window. */
async function awayFromWindowEdge(margin = 8000): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < margin) await new Promise((r) => setTimeout(r, left + 100));
}

describe('writ totp (command line)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'writ-totp-cli-'));
  const home = join(scratch, 'home');
  const secretFile = join(home, 'keys', 'totp.secret');
  let wired = false;
  after(() => rmSync(scratch, { recursive: true, force: true }));
  before(async () => {
    wired = /^\s+totp\b/m.test((await runWrit(['--help'])).stdout);
    if (wired) assert.equal((await runWrit(['--home', home, 'init'])).code, 0);
  });
  const writ = (...args: string[]) => runWrit(['--home', home, 'totp', ...args]);
  const skipUnlessWired = (t: { skip(message: string): void }) => {
    if (!wired) t.skip('writ totp is not registered yet: src/transports/cli/main.ts must call registerTotpCommands(program)');
    return !wired;
  };

  it('says to provision first when there is no secret', async (t) => {
    if (skipUnlessWired(t)) return;
    const run = await writ('check', '123456');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no TOTP secret at .*writ totp provision/);
  });

  it('provision creates the secret (0600) and prints its otpauth URI, and again reuses it', async (t) => {
    if (skipUnlessWired(t)) return;
    const run = await writ('provision', '--account', 'ops');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /created the TOTP secret/);
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const secret = loadTotpSecret(secretFile);
    assert.equal(run.stdout, otpauthUri({ issuer: 'writ', account: 'ops', secret }) + '\n');
    const again = await writ('provision', '--account', 'ops', '--qr');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /using the existing TOTP secret/);
    const [uri, ...qr] = again.stdout.split('\n');
    assert.equal(uri, run.stdout.trim());
    assert.ok(qr.length > 15 && /[█▀▄]/.test(qr.join('')), 'a QR code follows the URI');
  });

  it('check says the current code matches, and a code from 3 windows back is 90 s behind (exit 44), consuming nothing', async (t) => {
    if (skipUnlessWired(t)) return;
    assert.ok(existsSync(secretFile));
    const key = base32Decode(loadTotpSecret(secretFile).toBase32());
    await awayFromWindowEdge();
    const now = Math.floor(Date.now() / 1000);
    const current = await writ('check', refTotp(key, now));
    assert.equal(current.code, 0, current.stderr);
    assert.match(current.stdout, /matches the current window/);
    assert.equal((await writ('check', refTotp(key, now))).code, 0, 'checking consumed nothing');
    const behind = await writ('check', refTotp(key, now - 90));
    assert.equal(behind.code, CODES.TOTP_INVALID.exit);
    assert.match(behind.stdout, /matches window -3 \(your authenticator is ~90 s behind\)/);
  });

  it('check refuses a malformed code and a world-readable secret', async (t) => {
    if (skipUnlessWired(t)) return;
    assert.equal((await writ('check', '12ab56')).code, 2);
    chmodSync(secretFile, 0o644);
    const run = await writ('check', '123456');
    chmodSync(secretFile, 0o600);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /chmod 600/);
  });
});
