import { WritError } from '../core/errors.js';
import { JWS_ALG, parseAuthorization, parseReadToken, READ_TOKEN_MAX_SECONDS, type KeyAlg } from '../core/read-token.js';
import { verifySignature } from '../core/signature.js';
import type { JwtVerifier } from '../pipeline/authenticate/jwt.js';
import type { Verifier } from '../pipeline/authenticate/verifier.js';
import type { Directory, KnownKey } from '../state/directory.js';

/** Who is calling: an actor of a tenant, proven by a read token or a bearer JWT. */
export interface Identity {
  readonly tenant: string;
  readonly actor: string;
  readonly method: 'signature' | 'jwt';
  /** The registered key that signed the read token (null for a JWT). */
  readonly keyId: string | null;
}

/** The request a credential must be bound to: its method and its target (path and query as sent). */
export interface RequestLine {
  readonly method: string;
  readonly target: string;
}

export interface IdentifyDeps {
  readonly directory: Directory;
  readonly jwt: JwtVerifier;
  /** Checks Ed25519 and ES256 signatures (the worker threads of `verify.workers`, as for commands). */
  readonly verifier: Verifier;
  readonly now: () => number;
  /** freshness.skewSeconds: how far a token's times may be from the server's clock. */
  readonly skewSeconds: number;
}

const ALG_OF_JWS = Object.fromEntries(Object.entries(JWS_ALG).map(([k, v]) => [v, k])) as Record<string, KeyAlg>;

/**
 * Resolves the caller of a request from its `Authorization` value, for every transport (HTTP
 * today; the MCP server and the web console later): null when there is no credential at all;
 * an Identity when the credential verifies; otherwise a WritError, fail closed — UNAUTHENTICATED,
 * or the key registry's UNKNOWN_KEY, KEY_REVOKED, BAD_SIGNATURE.
 */
export async function identify(authorization: string | undefined, line: RequestLine, deps: IdentifyDeps): Promise<Identity | null> {
  const auth = parseAuthorization(authorization);
  if (auth === undefined) return null;
  if (auth.scheme === 'writsig') return byReadToken(auth.credential, line, deps);
  if (auth.scheme === 'bearer') return byJwt(auth.credential, deps);
  throw new WritError('UNAUTHENTICATED', 'the Authorization header must be "WritSig <read token>" or "Bearer <JWT>"');
}

async function byReadToken(token: string, line: RequestLine, deps: IdentifyDeps): Promise<Identity> {
  const { header, claims, signingInput, signature } = parseReadToken(token);
  const now = deps.now();
  const key: KnownKey = deps.directory.usableKey(claims.tenant, header.kid, claims.sub, ALG_OF_JWS[header.alg], now);
  const ok =
    key.alg === 'hs256'
      ? verifySignature({ alg: 'hs256', secret: key.secret! }, signingInput, signature)
      : await deps.verifier.verify({ alg: key.alg, spki: key.spki!, data: asBuffer(signingInput), sig: asBuffer(signature) });
  if (!ok) throw new WritError('BAD_SIGNATURE', `the read token's signature does not verify with key ${JSON.stringify(header.kid)}`);
  // Times and binding are checked only once the claims are known to be the key holder's.
  const seconds = now / 1000;
  const skew = deps.skewSeconds;
  if (claims.exp - claims.iat > READ_TOKEN_MAX_SECONDS) throw new WritError('UNAUTHENTICATED', `the read token lives longer than ${READ_TOKEN_MAX_SECONDS} s (exp - iat); sign one for a shorter time`);
  if (claims.iat > seconds + skew) throw new WritError('UNAUTHENTICATED', "the read token was issued in the future; check the signer's clock");
  if (claims.exp <= seconds) throw new WritError('UNAUTHENTICATED', 'the read token has expired; sign a fresh one for each request');
  if (claims.htm !== line.method.toUpperCase() || claims.htu !== line.target) {
    throw new WritError('UNAUTHENTICATED', `the read token is for ${claims.htm} ${JSON.stringify(claims.htu)}, not for this request; sign one for the exact method, path and query you send`);
  }
  return { tenant: claims.tenant, actor: claims.sub, method: 'signature', keyId: header.kid };
}

async function byJwt(token: string, deps: IdentifyDeps): Promise<Identity> {
  if (!deps.jwt.configured) throw new WritError('UNAUTHENTICATED', 'bearer tokens are not configured here (auth.jwt); sign the request with your key (Authorization: WritSig)');
  const claims = await deps.jwt.verify(token);
  if (claims.tenant === undefined) throw new WritError('UNAUTHENTICATED', 'the bearer token has no "tenant" claim; a read needs to know whose tenant the caller belongs to');
  return { tenant: claims.tenant, actor: claims.sub, method: 'jwt', keyId: null };
}

/** A Buffer view of the same bytes (core/read-token.ts gives Uint8Array; the verifier pool takes Buffers). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
