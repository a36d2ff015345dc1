import { WritError } from './errors.js';
import { dateTimeProblem } from './date-time.js';

/** Signature algorithms an envelope may carry (DESIGN §2). */
export type SignatureAlg = 'ed25519' | 'es256' | 'hs256';
export const SIGNATURE_ALGS: readonly SignatureAlg[] = ['ed25519', 'es256', 'hs256'];

export interface EnvelopeSignature {
  readonly keyId: string;
  readonly alg: SignatureAlg;
  /** Standard base64 of the signature; ES256 signatures are raw r‖s (64 bytes, as in JWS). */
  readonly sig: string;
}

/** Command envelope, version 1 (DESIGN §2). This is public API: change it only additively. */
export interface Envelope {
  readonly v: 1;
  readonly action: string;
  readonly requestId: string;
  readonly actor: string;
  readonly tenant: string;
  readonly timestamp: string;
  readonly nonce: string;
  readonly expectedVersion?: number;
  readonly target?: string;
  readonly payload: Record<string, unknown>;
  readonly signature?: EnvelopeSignature;
}

/** An envelope as received: identity fields may still be missing until a bearer token fills them. */
export type PartialEnvelope = Omit<Envelope, 'actor' | 'tenant' | 'nonce' | 'requestId'> &
  Partial<Pick<Envelope, 'actor' | 'tenant' | 'nonce' | 'requestId'>>;

export const PATTERNS = {
  requestId: /^[A-Za-z0-9._:-]{8,128}$/,
  nonce: /^[A-Za-z0-9._:+/=-]{8,128}$/,
  tenant: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  actor: /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/,
  action: /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)?$/,
  keyId: /^[A-Za-z0-9._:#@-]{1,128}$/,
  target: /^[a-z][a-z0-9-]{0,63}\/[^\s]{1,448}$/,
  timestamp: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/,
  base64: /^[A-Za-z0-9+/]{4,1024}={0,2}$/,
} as const;

/**
 * Longest value, in characters, of each string field of an envelope. Every one of them reaches a
 * ledger record or the store (record.ts builds the leaf from action, actor, tenant, requestId and
 * target; the nonce and keyId are stored beside it), so each is bounded before anything is
 * recorded. The patterns above agree; the bound is checked first so the message can name it.
 */
export const FIELD_MAX = { action: 128, requestId: 128, actor: 128, tenant: 64, nonce: 128, keyId: 128, target: 513, timestamp: 30, sig: 1026 } as const;

const TOP_LEVEL = new Set(['v', 'action', 'requestId', 'actor', 'tenant', 'timestamp', 'nonce', 'expectedVersion', 'target', 'payload', 'signature']);
const SIGNATURE_FIELDS = new Set(['keyId', 'alg', 'sig']);

function bad(message: string): WritError {
  return new WritError('INVALID_ENVELOPE', message);
}

function str(o: Record<string, unknown>, key: keyof typeof FIELD_MAX, pattern: RegExp, required: boolean, prefix = ''): void {
  const value = o[key];
  const name = `${prefix}${key}`;
  if (value === undefined) {
    if (required) throw bad(`missing field "${name}"`);
    return;
  }
  if (typeof value !== 'string') throw bad(`field "${name}" must be a string`);
  if (value.length > FIELD_MAX[key]) throw bad(`field "${name}" is ${value.length} characters long; it may be at most ${FIELD_MAX[key]} characters`);
  if (!pattern.test(value)) throw bad(`field "${name}" does not match ${pattern.source}`);
}

/**
 * Checks the shape of a parsed envelope. Identity fields may be absent only when `allowMissingIdentity`
 * (a bearer token will fill them); a completed envelope is checked again with it false.
 */
export function checkEnvelopeShape(value: unknown, allowMissingIdentity: boolean): PartialEnvelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('the envelope must be a JSON object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!TOP_LEVEL.has(key)) throw bad(`unknown top-level field "${key}"`);
  if (o.v !== 1) throw bad('field "v" must be 1');
  str(o, 'action', PATTERNS.action, true);
  str(o, 'requestId', PATTERNS.requestId, !allowMissingIdentity);
  str(o, 'actor', PATTERNS.actor, !allowMissingIdentity);
  str(o, 'tenant', PATTERNS.tenant, !allowMissingIdentity);
  str(o, 'nonce', PATTERNS.nonce, !allowMissingIdentity);
  str(o, 'timestamp', PATTERNS.timestamp, true);
  const impossible = dateTimeProblem(o.timestamp as string);
  if (impossible) throw bad(`field "timestamp" ${impossible}`);
  str(o, 'target', PATTERNS.target, false);
  if (o.expectedVersion !== undefined) {
    const ev = o.expectedVersion;
    if (typeof ev !== 'number' || !Number.isSafeInteger(ev) || ev < 0) throw bad('field "expectedVersion" must be a non-negative integer');
  }
  if (o.payload === null || typeof o.payload !== 'object' || Array.isArray(o.payload)) throw bad('field "payload" must be a JSON object');
  if (o.signature !== undefined) {
    const s = o.signature as Record<string, unknown>;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw bad('field "signature" must be an object');
    for (const key of Object.keys(s)) if (!SIGNATURE_FIELDS.has(key)) throw bad(`unknown field "signature.${key}"`);
    str(s, 'keyId', PATTERNS.keyId, true, 'signature.');
    if (!SIGNATURE_ALGS.includes(s.alg as SignatureAlg)) throw bad(`field "signature.alg" must be one of ${SIGNATURE_ALGS.join(', ')}`);
    str(s, 'sig', PATTERNS.base64, true, 'signature.');
  }
  return o as unknown as PartialEnvelope;
}

/** The envelope without its signature: the object whose JCS bytes are signed and hashed. */
export function unsignedPart(env: PartialEnvelope): Record<string, unknown> {
  const { signature: _signature, ...rest } = env;
  return rest;
}
