import { WritError } from '../errors.js';
import { fromBase64, toBase64 } from './base64.js';
import { parseCheckpoint, parseDecimal, type Checkpoint } from './checkpoint.js';
import { verifyCosignature } from './cosignature.js';
import { hashEquals, pureHasher, type Hash, type Hasher } from './hasher.js';
import { verifyInclusion } from './merkle.js';
import { NOTE_MAX_BYTES, parseNote, verifyNote } from './note.js';
import type { VerifierKey } from './verifier-key.js';

/** A C2SP tlog-proof: an offline-verifiable proof that an entry is in a log at a signed checkpoint. */
export interface TlogProof {
  /** Opaque, unauthenticated extra data; writ puts the leaf bytes (the ledger record) here. */
  extra: Uint8Array | null;
  index: number;
  /** RFC 6962 §2.1.1 inclusion proof, the leaf's sibling first. */
  proof: Hash[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
}

const HEADER = 'c2sp.org/tlog-proof@v1';
/** Most proof lines: a tree of at most 2^63 leaves has at most 63 levels. */
export const TLOG_PROOF_MAX_HASHES = 63;
/** Largest proof text accepted: a maximal note plus extra data and proof lines. */
export const TLOG_PROOF_MAX_BYTES = 2 * NOTE_MAX_BYTES;

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

function decode(b64: string, what: string): Uint8Array {
  try {
    return fromBase64(b64);
  } catch {
    fail(`${what} is not canonical base64`);
  }
}

/**
 * Parses a C2SP tlog-proof strictly: the header line, an optional `extra <base64>` line,
 * `index <decimal without leading zeroes>`, up to 63 base64 SHA-256 hashes, an empty line, then a
 * well-formed signed checkpoint (parsed, not verified). Throws PROOF_INVALID naming the problem.
 */
export function parseTlogProof(text: string): TlogProof {
  if (text.length > TLOG_PROOF_MAX_BYTES) fail(`the proof is larger than ${TLOG_PROOF_MAX_BYTES} bytes`);
  let pos = 0;
  const nextLine = (what: string): string => {
    const end = text.indexOf('\n', pos);
    if (end < 0) fail(`the proof ends before ${what}`);
    const line = text.slice(pos, end);
    pos = end + 1;
    return line;
  };
  if (nextLine('its header line') !== HEADER) fail(`the first line of a tlog proof must be ${HEADER}`);
  let line = nextLine('the index line');
  let extra: Uint8Array | null = null;
  if (line.startsWith('extra ')) {
    extra = decode(line.slice('extra '.length), 'the extra data');
    line = nextLine('the index line');
  }
  if (!line.startsWith('index ')) fail('expected the line "index <n>" after the header (and the optional extra line)');
  const index = parseDecimal(line.slice('index '.length), 'the index');
  const proof: Hash[] = [];
  for (line = nextLine('the empty line before the checkpoint'); line !== ''; line = nextLine('the empty line before the checkpoint')) {
    if (proof.length === TLOG_PROOF_MAX_HASHES) fail(`the proof has more than ${TLOG_PROOF_MAX_HASHES} hashes`);
    const hash = decode(line, `proof line ${proof.length + 1}`);
    if (hash.length !== 32) fail(`proof line ${proof.length + 1} has ${hash.length} bytes instead of 32`);
    proof.push(hash);
  }
  const checkpoint = text.slice(pos);
  parseCheckpoint(parseNote(checkpoint).text);
  return { extra, index, proof, checkpoint };
}

/** The C2SP tlog-proof text of `p`. */
export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) fail(`the index must be a non-negative safe integer, got ${String(p.index)}`);
  if (p.proof.length > TLOG_PROOF_MAX_HASHES) fail(`a proof has at most ${TLOG_PROOF_MAX_HASHES} hashes`);
  if (p.proof.some((h) => h.length !== 32)) fail('every proof hash must be 32 bytes');
  parseNote(p.checkpoint);
  const extra = p.extra === null ? '' : `extra ${toBase64(p.extra)}\n`;
  return `${HEADER}\n${extra}index ${p.index}\n${p.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${p.checkpoint}`;
}

export interface VerifyTlogProofOptions {
  /** Trusted witnesses (Ed25519 cosignature keys, type 0x04). */
  witnesses?: readonly VerifierKey[];
  /** How many distinct witnesses must have cosigned; default: all of `witnesses`. */
  witnessQuorum?: number;
  /** When given, the checkpoint's origin must be exactly this. */
  origin?: string;
  hasher?: Hasher;
}

/**
 * Verifies a C2SP tlog-proof offline: the checkpoint note is signed by `logKey` (C2SP signed-note),
 * at least `witnessQuorum` trusted witnesses cosigned it (C2SP tlog-cosignature; a bad cosignature
 * by a trusted witness fails the whole proof), `extra` holds the leaf bytes, and SHA-256(0x00 ‖
 * extra) is at `index` in the checkpoint's tree (RFC 9162 §2.1.3.2). Throws PROOF_INVALID.
 */
export async function verifyTlogProof(
  text: string,
  logKey: VerifierKey,
  options: VerifyTlogProofOptions = {},
): Promise<{ checkpoint: Checkpoint; index: number; leaf: Uint8Array; cosigners: string[] }> {
  const witnesses = options.witnesses ?? [];
  const quorum = options.witnessQuorum ?? witnesses.length;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > witnesses.length) {
    fail(`the witness quorum ${String(quorum)} cannot be met by the ${witnesses.length} witnesses given`);
  }
  const p = parseTlogProof(text);
  const { note } = await verifyNote(p.checkpoint, [logKey]);
  const checkpoint = parseCheckpoint(note.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    fail(`the checkpoint is for the log ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(options.origin)}`);
  }

  const cosigners = new Set<string>();
  for (const witness of witnesses) {
    const sigs = note.signatures.filter((s) => s.name === witness.name && hashEquals(s.keyId, witness.keyId));
    if (sigs.length > 1) fail(`the checkpoint carries ${sigs.length} cosignatures by witness ${witness.name}`);
    if (sigs.length === 0) continue;
    await verifyCosignature(sigs[0], witness, note.text);
    cosigners.add(witness.name);
  }
  if (cosigners.size < quorum) fail(`the checkpoint has ${cosigners.size} valid cosignatures by trusted witnesses, ${quorum} required`);

  if (p.extra === null) fail('the proof has no extra line; a writ receipt carries the leaf bytes there');
  const h = options.hasher ?? pureHasher;
  verifyInclusion(p.index, checkpoint.size, h.leaf(p.extra), p.proof, checkpoint.root, h);
  return { checkpoint, index: p.index, leaf: p.extra, cosigners: [...cosigners] };
}
