import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { WritError } from '../../core/errors.js';

export interface JwtSettings {
  readonly hs256SecretFile?: string;
  readonly publicKeyFiles: readonly string[];
  readonly issuer?: string;
  readonly audience?: string;
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

  constructor(private readonly settings: JwtSettings) {
    if (settings.hs256SecretFile) {
      this.keys.push({ alg: 'HS256', key: createSecretKey(readFileSync(settings.hs256SecretFile)) });
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
    let lastError: unknown;
    for (const { key } of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [alg as string],
          ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
          ...(this.settings.audience ? { audience: this.settings.audience } : {}),
        });
        return claimsOf(payload);
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof joseErrors.JWTExpired) throw new WritError('UNAUTHENTICATED', 'the bearer token has expired; get a new one');
    if (lastError instanceof joseErrors.JWTClaimValidationFailed) throw new WritError('UNAUTHENTICATED', `the bearer token's "${lastError.claim}" claim is not accepted`);
    if (lastError instanceof WritError) throw lastError;
    throw new WritError('UNAUTHENTICATED', 'the bearer token does not verify');
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
