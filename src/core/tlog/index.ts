/**
 * writ's transparency-log verification library: RFC 6962 / RFC 9162 Merkle proofs, C2SP
 * signed-note, tlog-checkpoint, tlog-cosignature and tlog-proof. It imports nothing outside
 * src/core/ and uses no Node API (an architecture test checks this), so a browser runs the very
 * same verification as the server.
 */
export { fromBase64, fromHex, toBase64, toHex } from './base64.js';
export { formatCheckpoint, parseCheckpoint, parseDecimal, type Checkpoint } from './checkpoint.js';
export { cosignatureMessage, encodeTimestamp, verifyCosignature } from './cosignature.js';
export { emptyRoot, hashEquals, pureHasher, type Hash, type Hasher } from './hasher.js';
export {
  MemoryTree,
  TreeBuilder,
  consistencyRanges,
  inclusionRanges,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
  type LeafRange,
} from './merkle.js';
export {
  NOTE_MAX_BYTES,
  NOTE_MAX_SIGNATURES,
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  ed25519Verify,
  formatNote,
  formatVerifierKey,
  isValidKeyName,
  keyIdOf,
  parseNote,
  parseVerifierKey,
  signatureLine,
  verifyNote,
  keyLabel,
  type Note,
  type NoteSignature,
  type VerifierKey,
} from './note.js';
export { sha256 } from './sha256.js';
export {
  TLOG_PROOF_MAX_BYTES,
  TLOG_PROOF_MAX_HASHES,
  formatTlogProof,
  parseTlogProof,
  verifyTlogProof,
  type TlogProof,
  type VerifyTlogProofOptions,
} from './tlog-proof.js';
