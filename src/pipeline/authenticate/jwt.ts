import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { WritError } from '../../core/errors.js';
import { readHmacSecret } from './hmac-secret.js';

export interface JwtSettings {
  readonly hs256SecretFile?: string;
  readonly publicKeyFiles: readonly string[];
  readonly issuer?: string;
  readonly audience?: string;
  /** Longest a token may live: exp − iat, and exp − now (auth.jwt.maxLifetimeSeconds). */
  readonly maxLifetimeSeconds: number;
}

/** How far the issuer's clock may be ahead of or behind writ's (freshness.skewSeconds), and writ's clock. */
export interface JwtClock {
  readonly skewSeconds: number;
  readonly now: () => number;
}

/** Claims writ reads from a bearer token (DESIGN §2). */
export interface TokenClaims {
  readonly sub: string;
  readonly tenant?: string;
  readonly nonce?: string;
  readonly jti?: string;
  readonly role?: string | string[];
}

/** Verifies bearer tokens (HS256, EdDSA, ES256) against the configured keys. */
export class JwtVerifier {
  private readonly keys: Array<{ alg: 'HS256' | 'EdDSA' | 'ES256'; key: KeyObject }> = [];

  constructor(private readonly settings: JwtSettings, private readonly clock: JwtClock) {
    if (settings.hs256SecretFile) {
      this.keys.push({ alg: 'HS256', key: createSecretKey(readHmacSecret(settings.hs256SecretFile, 'auth.jwt.hs256SecretFile')) });
    }
    for (const file of settings.publicKeyFiles) {
      const key = createPublicKey(readFileSync(file, 'utf8'));
      this.keys.push({ alg: key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256', key });
    }
  }

  get configured(): boolean {
    return this.keys.length > 0;
  }

  async verify(token: string): Promise<TokenClaims> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new WritError('UNAUTHENTICATED', 'the bearer token is not a JWT');
    }
    const candidates = this.keys.filter((k) => k.alg === alg);
    if (candidates.length === 0) throw new WritError('UNAUTHENTICATED', `bearer tokens signed with ${String(alg)} are not accepted here`);
    const nowMs = this.clock.now();
    for (const { key } of candidates) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [alg as string],
          // A token without exp would be valid for ever: a leaked one could never be taken back.
          requiredClaims: ['exp'],
          clockTolerance: this.clock.skewSeconds,
          currentDate: new Date(nowMs),
          ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
          ...(this.settings.audience ? { audience: this.settings.audience } : {}),
        }));
      } catch (err) {
        // jose checks claims only once the signature verified: this key is the one, the claims are wrong.
        if (err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) throw this.claimRefused(err);
        continue;
      }
      this.checkLifetime(payload, Math.floor(nowMs / 1000));
      return claimsOf(payload);
    }
    throw new WritError('UNAUTHENTICATED', 'the bearer token does not verify');
  }

  private claimRefused(err: InstanceType<typeof joseErrors.JWTClaimValidationFailed>): WritError {
    const skew = this.clock.skewSeconds;
    if (err instanceof joseErrors.JWTExpired) return new WritError('UNAUTHENTICATED', 'the bearer token has expired; get a new one');
    if (err.reason === 'missing' && err.claim === 'exp') {
      return new WritError('UNAUTHENTICATED', `the bearer token has no "exp" claim; writ accepts only tokens that expire, within ${this.settings.maxLifetimeSeconds} s (auth.jwt.maxLifetimeSeconds)`);
    }
    if (err.claim === 'nbf') return new WritError('UNAUTHENTICATED', `the bearer token's "nbf" claim is in the future beyond the allowed clock skew (${skew} s); check the issuer's clock`);
    return new WritError('UNAUTHENTICATED', `the bearer token's "${err.claim}" claim is not accepted`);
  }

  /** A token issued in the future, or living longer than allowed, is refused even when it verifies. */
  private checkLifetime(payload: JWTPayload, now: number): void {
    const max = this.settings.maxLifetimeSeconds;
    const skew = this.clock.skewSeconds;
    const exp = payload.exp as number;
    // The skew forgives an issuer's clock running ahead (iat, nbf), never a token past its exp.
    if (exp <= now) throw new WritError('UNAUTHENTICATED', 'the bearer token has expired; get a new one');
    if (payload.iat !== undefined && payload.iat > now + skew) {
      throw new WritError('UNAUTHENTICATED', `the bearer token's "iat" claim is in the future beyond the allowed clock skew (${skew} s); check the issuer's clock`);
    }
    // With iat, the whole life counts; without it, what is left of it (a token issued long ago with a
    // far exp is refused either way).
    const life = payload.iat !== undefined ? exp - payload.iat : exp - now;
    if (life > max || exp - now > max + skew) {
      throw new WritError('UNAUTHENTICATED', `the bearer token's lifetime (${life} s${payload.iat !== undefined ? ', exp − iat' : ' left'}) exceeds ${max} s (auth.jwt.maxLifetimeSeconds); issue shorter-lived tokens`);
    }
  }
}

function claimsOf(payload: JWTPayload): TokenClaims {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new WritError('UNAUTHENTICATED', 'the bearer token has no "sub" claim');
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    sub: payload.sub,
    tenant: str(payload.tenant),
    nonce: str(payload.nonce),
    jti: str(payload.jti),
    role: Array.isArray(payload.role) ? payload.role.filter((r): r is string => typeof r === 'string') : str(payload.role),
  };
}
