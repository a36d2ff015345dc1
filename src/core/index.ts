/**
 * The public entry `writ/core` (package.json exports "./core"): writ's verification, safe in a
 * browser — the error registry, the envelope's shape check, strict JSON and the transparency-log
 * library (Merkle proofs, signed notes, checkpoints, cosignatures, receipts). It reaches no Node
 * API (test/architecture.test.ts checks every file it imports); hashing and signing, which use
 * node:crypto, are in the `writ` entry. Names are listed one by one (no `export *`), and
 * test/package-exports.test.ts pins the list.
 */
export { ALL_CODES, CODES, codeSpec, isCode, type Code, type CodeSpec } from './codes.js';
export { isDateTime } from './date-time.js';
export { FIELD_MAX, SIGNATURE_ALGS, checkEnvelopeShape, unsignedPart, type Envelope, type EnvelopeSignature, type PartialEnvelope, type SignatureAlg } from './envelope.js';
export { WritError, toWritError } from './errors.js';
export { parseStrictJson, type StrictJsonLimits } from './strict-json.js';
export {
  MemoryTree,
  NOTE_MAX_BYTES,
  NOTE_MAX_SIGNATURES,
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  TLOG_PROOF_MAX_BYTES,
  TLOG_PROOF_MAX_HASHES,
  TreeBuilder,
  consistencyRanges,
  cosignatureMessage,
  ed25519Verify,
  emptyRoot,
  encodeTimestamp,
  formatCheckpoint,
  formatNote,
  formatTlogProof,
  formatVerifierKey,
  fromBase64,
  fromHex,
  hashEquals,
  inclusionRanges,
  isValidKeyName,
  keyIdOf,
  parseCheckpoint,
  parseDecimal,
  parseNote,
  parseTlogProof,
  parseVerifierKey,
  pureHasher,
  rootFromInclusion,
  sha256,
  signatureLine,
  toBase64,
  toHex,
  verifyConsistency,
  verifyInclusion,
  verifyNote,
  verifyTlogProof,
  type Checkpoint,
  type Hash,
  type Hasher,
  type LeafRange,
  type Note,
  type NoteSignature,
  type TlogProof,
  type VerifierKey,
  type VerifyTlogProofOptions,
} from './tlog/index.js';
