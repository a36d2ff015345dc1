import { leafHashHexImpl, sha256HexImpl } from './sha256-node.js';

/**
 * SHA-256 of the bytes, as lowercase hex (all hashes inside writ's JSON records are lowercase hex).
 * Under Node it is OpenSSL's; in the console's bundle, the portable one (sha256-web.ts).
 */
export const sha256Hex: (data: string | Uint8Array) => string = sha256HexImpl;

/** The genesis `prev` of every hash chain (DESIGN §2). */
export const ZERO_HASH = '0'.repeat(64);

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf bytes), lowercase hex. */
export const leafHashHex: (leaf: Uint8Array) => string = leafHashHexImpl;
