import { WritError } from '../errors.js';

/**
 * Standard base64 (RFC 4648 §4, padded) and lowercase hex, written by hand so that decoding is
 * strict: the C2SP formats (signed-note, tlog-checkpoint, tlog-proof) carry attacker-controlled
 * text, and an encoding that accepted two spellings of the same bytes would let a note or proof
 * be altered without changing what it says. atob() is lax (it skips whitespace, accepts missing
 * padding and non-zero trailing bits), so it is not used.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function invalid(what: string): WritError {
  return new WritError('PROOF_INVALID', what);
}

/** Standard padded base64 of the bytes (RFC 4648 §4). */
export function toBase64(b: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += ALPHABET[n >>> 18] + ALPHABET[(n >>> 12) & 63] + ALPHABET[(n >>> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i] << 16;
    out += `${ALPHABET[n >>> 18]}${ALPHABET[(n >>> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    out += `${ALPHABET[n >>> 18]}${ALPHABET[(n >>> 12) & 63]}${ALPHABET[(n >>> 6) & 63]}=`;
  }
  return out;
}

/**
 * Decodes canonical standard base64 (RFC 4648 §4): length a multiple of 4, only the 64 alphabet
 * characters, `=` padding only at the end, and zero bits where the padding cuts a character
 * (§3.5), so every byte string has exactly one accepted spelling. The empty string is the empty
 * byte string. Throws WritError PROOF_INVALID otherwise.
 */
export function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw invalid(`invalid base64: length ${s.length} is not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  const value = (i: number): number => {
    const c = s.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v < 0) throw invalid(`invalid base64: unexpected character at position ${i}`);
    return v;
  };
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const n = (value(i) << 18) | (value(i + 1) << 12) | (last && pad === 2 ? 0 : value(i + 2) << 6) | (last && pad >= 1 ? 0 : value(i + 3));
    out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (last && pad > 0 && (n & (pad === 2 ? 0xffff : 0xff)) !== 0) {
      throw invalid('invalid base64: non-zero bits before the padding (not the canonical encoding)');
    }
  }
  return out;
}

/** Lowercase hex of the bytes. */
export function toHex(b: Uint8Array): string {
  let out = '';
  for (const byte of b) out += (byte < 16 ? '0' : '') + byte.toString(16);
  return out;
}

/** Decodes lowercase hex, as writ and the C2SP verifier keys write it; throws WritError PROOF_INVALID otherwise. */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0) throw invalid('invalid hex: expected an even number of lowercase hex digits');
  const out = new Uint8Array(s.length / 2);
  // By character code, without a regular expression or substrings: the integrator decodes every
  // leaf hash it folds into the tree, on the event loop.
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(s.charCodeAt(2 * i));
    const lo = hexDigit(s.charCodeAt(2 * i + 1));
    if ((hi | lo) < 0) throw invalid('invalid hex: expected an even number of lowercase hex digits');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** The value of a lowercase hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
