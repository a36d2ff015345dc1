import { fromBase64Url, toBase64Url, utf8 } from './base64url.js';
import { PATTERNS } from './envelope.js';
import { WritError } from './errors.js';

/**
 * The signed read token (docs/security.md, "Reads: who may see what"): a compact JWS (RFC 7515)
 * signed with the actor's own registered key, bound to one HTTP method and one path with its query
 * for a few minutes, as DPoP binds a proof to `htm` and `htu` (RFC 9449 §4.2). It is sent as
 * `Authorization: WritSig <token>`. This file holds the format only (both the SDK that signs and
 * the server that verifies use it); keys and clocks are the caller's.
 */
export const READ_TOKEN_SCHEME = 'WritSig';
export const READ_TOKEN_TYPE = 'writ-read+jwt';
/** Longest life of a token, `exp - iat`, in seconds. */
export const READ_TOKEN_MAX_SECONDS = 300;
/** Longest token accepted, in characters: a bound before any parsing or crypto. */
export const READ_TOKEN_MAX_CHARS = 4096;

/** The JWS `alg` of each registry algorithm (RFC 7518 §3.1, RFC 8037 §3.1). */
export const JWS_ALG = { ed25519: 'EdDSA', es256: 'ES256', hs256: 'HS256' } as const;
export type KeyAlg = keyof typeof JWS_ALG;

export interface ReadTokenHeader {
  readonly alg: (typeof JWS_ALG)[KeyAlg];
  readonly typ: typeof READ_TOKEN_TYPE;
  /** The registered key id. */
  readonly kid: string;
}

export interface ReadTokenClaims {
  /** The actor. */
  readonly sub: string;
  /** The tenant the key is registered in. */
  readonly tenant: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expiry, seconds since the epoch; at most READ_TOKEN_MAX_SECONDS after iat. */
  readonly exp: number;
  /** The HTTP method, upper case. */
  readonly htm: string;
  /** The request target as sent: path and query (`/v1/entities/acme/product/sku-1?at=3`). */
  readonly htu: string;
}

export interface ParsedReadToken {
  readonly header: ReadTokenHeader;
  readonly claims: ReadTokenClaims;
  /** The JWS signing input, `base64url(header) "." base64url(claims)`, as ASCII bytes. */
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** The JWS signing input of a token (what the key signs). */
export function readTokenSigningInput(header: ReadTokenHeader, claims: ReadTokenClaims): string {
  const part = (v: unknown) => toBase64Url(utf8(JSON.stringify(v)));
  return `${part(header)}.${part(claims)}`;
}

/** Joins a signing input and its signature into the compact token. */
export function readTokenOf(signingInput: string, signature: Uint8Array): string {
  return `${signingInput}.${toBase64Url(signature)}`;
}

function bad(message: string): WritError {
  return new WritError('UNAUTHENTICATED', `${message}; sign a fresh read token (WritClient does it, or \`writ get <path>\`)`);
}

function member(o: Record<string, unknown>, name: string, test: (v: unknown) => boolean): unknown {
  if (!test(o[name])) throw bad(`the read token's "${name}" is missing or malformed`);
  return o[name];
}

function json(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(part, 'UNAUTHENTICATED')));
  } catch {
    throw bad(`the read token's ${what} is not base64url JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`the read token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function decodeSignature(part: string): Uint8Array {
  try {
    return fromBase64Url(part, 'UNAUTHENTICATED');
  } catch {
    throw bad("the read token's signature is not base64url");
  }
}

const isString = (v: unknown) => typeof v === 'string';
const isTime = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Parses a compact read token and checks its shape (not its signature, key or times): three
 * base64url parts, the header `{alg, typ, kid}`, the claims `{sub, tenant, iat, exp, htm, htu}`.
 */
export function parseReadToken(token: string): ParsedReadToken {
  if (token.length > READ_TOKEN_MAX_CHARS) throw bad(`the read token is longer than ${READ_TOKEN_MAX_CHARS} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw bad('the read token is not a compact JWS (three base64url parts)');
  const h = json(parts[0], 'header');
  const c = json(parts[1], 'claims');
  const alg = member(h, 'alg', (v) => Object.values(JWS_ALG).includes(v as never));
  member(h, 'typ', (v) => v === READ_TOKEN_TYPE);
  const kid = member(h, 'kid', (v) => isString(v) && PATTERNS.keyId.test(v as string));
  const claims: ReadTokenClaims = {
    sub: member(c, 'sub', (v) => isString(v) && PATTERNS.actor.test(v as string)) as string,
    tenant: member(c, 'tenant', (v) => isString(v) && PATTERNS.tenant.test(v as string)) as string,
    iat: member(c, 'iat', isTime) as number,
    exp: member(c, 'exp', isTime) as number,
    htm: member(c, 'htm', (v) => isString(v) && /^[A-Z]{1,16}$/.test(v as string)) as string,
    htu: member(c, 'htu', (v) => isString(v) && (v as string).startsWith('/')) as string,
  };
  return {
    header: { alg: alg as ReadTokenHeader['alg'], typ: READ_TOKEN_TYPE, kid: kid as string },
    claims,
    signingInput: utf8(`${parts[0]}.${parts[1]}`),
    signature: decodeSignature(parts[2]),
  };
}

/**
 * The value of an `Authorization` header split into its scheme and credential; undefined when
 * there is none. Scheme names are case-insensitive (RFC 9110 §11.1).
 */
export function parseAuthorization(header: string | undefined): { scheme: 'bearer' | 'writsig' | 'other'; credential: string } | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^(\S+)\s+(\S+)$/.exec(header.trim());
  if (!m) return { scheme: 'other', credential: '' };
  const scheme = m[1].toLowerCase();
  return { scheme: scheme === 'bearer' ? 'bearer' : scheme === 'writsig' ? 'writsig' : 'other', credential: m[2] };
}
