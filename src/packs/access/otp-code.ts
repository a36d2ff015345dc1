import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import { readHmacSecret } from '../../pipeline/authenticate/hmac-secret.js';

/** Digits of a one-time code: 10^8 codes, of which an attacker may try OTP_MAX_ATTEMPTS. */
export const OTP_DIGITS = 8;
/** Wrong codes tolerated before a code is spent (docs/security.md). */
export const OTP_MAX_ATTEMPTS = 5;
/** Longest life of a token ExchangeOtp gives (also capped by auth.jwt.maxLifetimeSeconds). */
export const OTP_TOKEN_SECONDS = 900;

/**
 * The deployment's bearer-token secret (auth.jwt.hs256SecretFile): it signs the tokens exchanged
 * for codes, so that writ's own bearer gate accepts them, and keys (through labelled HMAC
 * sub-keys, never the raw secret) the derivation and the hash of codes.
 */
export interface OtpSecret {
  readonly secret: Buffer;
  readonly issuer?: string;
  readonly audience?: string;
  readonly maxLifetimeSeconds: number;
}

const subKey = (s: OtpSecret, label: string) => createHmac('sha256', s.secret).update(`writ otp ${label} v1`).digest();

/**
 * Where a code comes from: public, unique per issuing command. The code is not random but derived
 * from the secret and the salt, so that replaying the ledger (`writ verify`) recomputes the same
 * hash; without the secret neither the code nor a way to test guesses offline can be had.
 */
export function otpSalt(tenant: string, requester: string, requestId: string): string {
  return sha256Hex(`${tenant}\n${requester}\n${requestId}`);
}

export function otpCode(s: OtpSecret, salt: string, actor: string): string {
  const mac = createHmac('sha256', subKey(s, 'code')).update(`${salt}\n${actor}`).digest();
  return (mac.readBigUInt64BE(0) % 10n ** BigInt(OTP_DIGITS)).toString().padStart(OTP_DIGITS, '0');
}

/** The peppered, salted hash kept in state in place of the code. */
export function otpHash(s: OtpSecret, salt: string, code: string): string {
  return createHmac('sha256', subKey(s, 'hash')).update(`${salt}\n${code}`).digest('hex');
}

/** Constant-time: the time taken does not tell how much of a guess was right. */
export function otpMatches(s: OtpSecret, salt: string, code: string, storedHash: string): boolean {
  const a = Buffer.from(otpHash(s, salt, code), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An HS256 bearer token for `actor` in `tenant`, living at most OTP_TOKEN_SECONDS. */
export async function otpToken(s: OtpSecret, tenant: string, actor: string, nowMs: number): Promise<{ token: string; expiresAt: string }> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + Math.min(OTP_TOKEN_SECONDS, s.maxLifetimeSeconds);
  let jwt = new SignJWT({ tenant, amr: ['otp'] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(actor).setIssuedAt(iat).setExpirationTime(exp);
  if (s.issuer) jwt = jwt.setIssuer(s.issuer);
  if (s.audience) jwt = jwt.setAudience(s.audience);
  return { token: await jwt.sign(s.secret), expiresAt: new Date(exp * 1000).toISOString() };
}

/** The secret of auth.jwt, read once when first needed; without one, codes are refused, saying why. */
export function otpSecret(jwt: { readonly hs256SecretFile?: string; readonly issuer?: string; readonly audience?: string; readonly maxLifetimeSeconds: number }): () => OtpSecret {
  let loaded: OtpSecret | undefined;
  return () => {
    if (loaded) return loaded;
    if (!jwt.hs256SecretFile) throw new WritError('UNAVAILABLE', 'this deployment issues no one-time codes: it has no bearer-token secret; set auth.jwt.hs256SecretFile (docs/security.md)');
    loaded = { secret: readHmacSecret(jwt.hs256SecretFile, 'auth.jwt.hs256SecretFile'), issuer: jwt.issuer, audience: jwt.audience, maxLifetimeSeconds: jwt.maxLifetimeSeconds };
    return loaded;
  };
}
