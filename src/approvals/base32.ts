/**
 * RFC 4648 §6 base32 (alphabet A–Z, 2–7), the encoding of TOTP secrets in authenticators and in
 * the Key Uri Format. Hand-written because it is twenty lines and a TOTP secret should not pass
 * through a dependency.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Unpadded base32 (the Key Uri Format omits the padding). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32: case-insensitive, whitespace ignored, `=` padding allowed only at the end.
 * Errors name the position, never the text, since the text is usually a secret.
 */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '').toUpperCase().replace(/=+$/, '');
  // RFC 4648 §6: a final quantum of 1, 3 or 6 characters cannot come from whole bytes.
  if ([1, 3, 6].includes(clean.length % 8)) throw new SyntaxError(`not base32: ${clean.length} characters cannot encode whole bytes`);
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < clean.length; i++) {
    const value = ALPHABET.indexOf(clean[i]);
    if (value < 0) throw new SyntaxError(`not base32: invalid character at position ${i + 1}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[n++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}
