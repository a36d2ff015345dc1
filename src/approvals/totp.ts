import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { base32Decode, base32Encode } from './base32.js';

/**
 * TOTP as the airlock uses it: RFC 6238 over HOTP (RFC 4226) with HMAC-SHA-1, 6 digits and a 30 s
 * step starting at the Unix epoch (T0 = 0), accepting the current window and one on each side.
 *
 * A "window" is the RFC 6238 time counter T = floor(unixSeconds / 30). Windows may be logged and
 * recorded; codes and the secret never are (DESIGN §5).
 */

/** RFC 6238 §4.1 time step X, in seconds. */
export const TOTP_PERIOD_SECONDS = 30;
/** Digits of a code (RFC 4226 §5.3 allows 6 to 8; authenticators show 6). */
export const TOTP_DIGITS = 6;
/** Windows accepted on each side of the server's current window (RFC 6238 §5.2 resynchronisation). */
export const TOTP_SKEW_WINDOWS = 1;
/** Bytes of a generated secret: 160 bits, the length RFC 4226 §4 (R6) recommends. */
export const TOTP_SECRET_BYTES = 20;
/** Shortest secret accepted: RFC 4226 §4 (R6) requires at least 128 bits. */
export const TOTP_MIN_SECRET_BYTES = 16;

/**
 * A TOTP shared secret. The key lives in a private field, so `JSON.stringify`, `util.inspect`,
 * template strings and loggers never show it; `toBase32()` is the one explicit way out, for
 * provisioning an authenticator.
 */
export class TotpSecret {
  readonly #key: Uint8Array;

  private constructor(key: Uint8Array) {
    this.#key = Uint8Array.from(key);
  }

  /** A new random secret of `bytes` bytes (default 160 bits). */
  static generate(bytes = TOTP_SECRET_BYTES): TotpSecret {
    if (!Number.isInteger(bytes) || bytes < TOTP_MIN_SECRET_BYTES) throw new RangeError(`a TOTP secret needs at least ${TOTP_MIN_SECRET_BYTES} bytes`);
    return new TotpSecret(randomBytes(bytes));
  }

  /** Parses RFC 4648 base32 (case-insensitive, padding optional). The error never quotes the text. */
  static fromBase32(text: string): TotpSecret {
    return TotpSecret.fromBytes(base32Decode(text));
  }

  static fromBytes(key: Uint8Array): TotpSecret {
    if (key.length < TOTP_MIN_SECRET_BYTES) throw new RangeError(`a TOTP secret must hold at least ${TOTP_MIN_SECRET_BYTES} bytes (128 bits, RFC 4226 §4), this one holds ${key.length}`);
    return new TotpSecret(key);
  }

  /** The secret as unpadded RFC 4648 base32, as authenticators and the Key Uri Format expect it. */
  toBase32(): string {
    return base32Encode(this.#key);
  }

  /** HMAC-SHA-1 of `message` under this secret. */
  hmac(message: Uint8Array): Buffer {
    return createHmac('sha1', this.#key).update(message).digest();
  }

  toJSON(): string {
    return '[redacted TOTP secret]';
  }

  toString(): string {
    return '[redacted TOTP secret]';
  }
}

/** A secret, or its base32 text. */
export type TotpSecretInput = TotpSecret | string;

function secretOf(secret: TotpSecretInput): TotpSecret {
  return typeof secret === 'string' ? TotpSecret.fromBase32(secret) : secret;
}

/** A new random 160-bit secret. */
export function generateSecret(): TotpSecret {
  return TotpSecret.generate();
}

/** The RFC 6238 time counter (window) of a moment: floor(seconds since the epoch / 30). */
export function windowAt(timeMs: number): number {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new RangeError(`not a time: ${timeMs}`);
  return Math.floor(timeMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** Start of a window, in milliseconds since the epoch. */
export function windowStartMs(window: number): number {
  return window * TOTP_PERIOD_SECONDS * 1000;
}

/**
 * HOTP (RFC 4226 §5.3): HMAC-SHA-1 over the 8-byte big-endian counter, dynamic truncation, the low
 * `digits` decimal digits, zero-padded.
 */
export function hotp(secret: TotpSecretInput, counter: number, digits = TOTP_DIGITS): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError(`HOTP counter must be a non-negative integer, got ${counter}`);
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) throw new RangeError(`HOTP codes have 6 to 8 digits, not ${digits}`);
  const message = new Uint8Array(8);
  const view = new DataView(message.buffer);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const mac = secretOf(secret).hmac(message);
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The 6-digit code of a window. */
export function totpForWindow(secret: TotpSecretInput, window: number): string {
  return hotp(secret, window, TOTP_DIGITS);
}

/** The 6-digit code an authenticator shows at `timeMs`. */
export function totpAt(secret: TotpSecretInput, timeMs: number): string {
  return totpForWindow(secret, windowAt(timeMs));
}

/** A code as typed (spaces allowed: authenticators show "123 456"), or null if it is not 6 digits. */
export function normaliseCode(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  const digits = code.replace(/\s+/g, '');
  return /^[0-9]{6}$/.test(digits) ? digits : null;
}

/**
 * The window whose code `code` is, searching the server's current window and `skewWindows` on each
 * side; null if none (or if `code` is not 6 digits). Every candidate is computed and compared in
 * constant time, without stopping at a match, so the time taken says nothing about which window
 * (if any) matched. If two windows share the code (about one chance in a million), the one nearest
 * the current window wins, the earlier on a tie.
 *
 * The airlock calls it with the default ±1; `writ totp check` with ±10 to diagnose clock skew.
 */
export function matchWindow(secret: TotpSecretInput, code: string, nowMs: number, skewWindows = TOTP_SKEW_WINDOWS): number | null {
  if (!Number.isInteger(skewWindows) || skewWindows < 0) throw new RangeError(`skewWindows must be a non-negative integer, got ${skewWindows}`);
  const key = secretOf(secret);
  const given = normaliseCode(code);
  // A malformed code still costs the same work, so its shape is all that timing can tell.
  const probe = Buffer.from(given ?? '000000', 'ascii');
  const current = windowAt(nowMs);
  let found: number | null = null;
  for (const offset of offsetsNearestFirst(skewWindows)) {
    const window = current + offset;
    if (window < 0) continue;
    const expected = Buffer.from(totpForWindow(key, window), 'ascii');
    if (timingSafeEqual(expected, probe) && found === null) found = window;
  }
  return given === null ? null : found;
}

/** 0, -1, +1, -2, +2, … */
function offsetsNearestFirst(skew: number): number[] {
  const out = [0];
  for (let i = 1; i <= skew; i++) out.push(-i, i);
  return out;
}

/**
 * The `otpauth://totp/` URI of the Key Uri Format (Google Authenticator wiki, "Key-Uri-Format"):
 * label `issuer:account` with each part percent-encoded, the unpadded base32 secret, the issuer
 * again as a parameter, and the algorithm, digits and period written out. Print it only to the
 * operator who provisions an authenticator: it holds the secret.
 */
export function otpauthUri(input: { readonly issuer: string; readonly account: string; readonly secret: TotpSecretInput }): string {
  for (const [name, value] of [['issuer', input.issuer], ['account', input.account]] as const) {
    if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`otpauth ${name} must be a non-empty string`);
    if (value.includes(':')) throw new TypeError(`otpauth ${name} may not contain a colon (Key Uri Format)`);
  }
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const params = [
    `secret=${secretOf(input.secret).toBase32()}`,
    `issuer=${encodeURIComponent(input.issuer)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ];
  return `otpauth://totp/${label}?${params.join('&')}`;
}

export { base32Decode, base32Encode };
