import { nodeHasher } from '../ledger/node-hasher.js';
import { verifyReceipt as verifyReceiptWith, type VerifiedReceipt, type VerifyReceiptOptions } from './receipt-check.js';
import type { VerifierKey } from '../core/tlog/index.js';

export { commandHashOf, type VerifiedReceipt, type VerifyReceiptOptions } from './receipt-check.js';

/**
 * Verifies a writ receipt (a C2SP tlog-proof, GET /v1/receipts/{tenant}/{requestId}) offline with
 * nothing but the log's verifier key (GET /v1/logs lists it): the checkpoint signature, the
 * witnesses' cosignatures, the inclusion of the record, and that the record is the one its proof
 * is for. Throws WritError PROOF_INVALID naming what failed. Hashes with node:crypto; the browser
 * runs receipt-check.ts, the same steps with the portable SHA-256.
 */
export async function verifyReceipt(text: string, logKey: string | VerifierKey, options: VerifyReceiptOptions = {}): Promise<VerifiedReceipt> {
  return verifyReceiptWith(text, logKey, { hasher: nodeHasher, ...options });
}
