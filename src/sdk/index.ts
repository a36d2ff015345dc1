/**
 * The public entry `writ` (package.json exports "."): what a client of a writ server needs to sign
 * command envelopes and read tokens, submit them, and fetch and verify receipts offline. Every name
 * is listed here on purpose (no `export *`): test/package-exports.test.ts pins this list, so a
 * change to the public surface is a visible decision.
 */
export { WritClient, type HttpAnswer } from './client.js';
export { commandHashOf, verifyReceipt, type VerifiedReceipt, type VerifyReceiptOptions } from './receipt.js';
export { actorOfKeyId, newNonce, signEnvelope, signReadToken, type ReadSigner, type Signer } from './sign.js';
export { loadPrivateKey, type SignKey } from '../core/signature.js';
// The same signing with a WebCrypto key (a browser's non-extractable CryptoKey; the web console's).
export { readAuthorizationWeb, signEnvelopeWeb, type WebSigner } from './sign-web.js';
export { importSigningKey, pkcs8FromPem } from '../core/web-signature.js';
export { READ_TOKEN_SCHEME } from '../core/read-token.js';
export { parseVerifierKey, type VerifierKey } from '../core/tlog/index.js';
export { CODES, isCode, type Code } from '../core/codes.js';
export { WritError } from '../core/errors.js';
export type { Envelope, EnvelopeSignature, SignatureAlg } from '../core/envelope.js';
