import { WritError } from '../errors.js';
import { fromBase64, toBase64 } from './base64.js';
import type { Hash } from './hasher.js';
import { checkCharacters, parseNote } from './note.js';

/** The body of a C2SP tlog-checkpoint: a log's Merkle tree head at one size. */
export interface Checkpoint {
  /** Unique identity of the log, e.g. `writ.example/acme/orders`. */
  origin: string;
  /** Number of leaves, a safe integer. */
  size: number;
  /** RFC 6962 root hash of the tree at `size`, 32 bytes. */
  root: Hash;
  /** Opaque extension lines (NOT RECOMMENDED by the spec; writ writes none). */
  extensions: string[];
}

function fail(why: string): never {
  throw new WritError('PROOF_INVALID', why);
}

/** ASCII decimal with no leading zeroes (C2SP tlog-checkpoint / tlog-proof / tlog-cosignature), as a safe integer. */
export function parseDecimal(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) fail(`${what} must be a decimal number without leading zeroes, got ${JSON.stringify(s.slice(0, 40))}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) fail(`${what} ${s} is beyond 2^53 - 1, the largest supported`);
  return n;
}

/**
 * Parses C2SP tlog-checkpoint note text: origin, tree size, base64 root hash of 32 bytes, then
 * optional non-empty extension lines, every line ending with a newline. Accepts either the note
 * text alone or a whole signed note (whose text is then taken, unverified: verify the note first).
 * Throws PROOF_INVALID naming the problem.
 */
export function parseCheckpoint(text: string): Checkpoint {
  // The text of a checkpoint has no empty line, so a blank line means a signed note.
  const body = text.includes('\n\n') ? parseNote(text).text : text;
  if (!body.endsWith('\n')) fail('the checkpoint text must end with a newline');
  checkCharacters(body, 'the checkpoint text');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) fail(`a checkpoint has at least 3 lines (origin, size, root hash), got ${lines.length}`);
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === '') fail('the checkpoint origin line is empty');
  const size = parseDecimal(sizeLine, 'the checkpoint tree size');
  let root: Uint8Array;
  try {
    root = fromBase64(rootLine);
  } catch {
    fail('the checkpoint root hash is not canonical base64');
  }
  if (root.length !== 32) fail(`the checkpoint root hash has ${root.length} bytes instead of 32`);
  if (extensions.some((line) => line === '')) fail('a checkpoint extension line is empty');
  return { origin, size, root, extensions };
}

/** The C2SP tlog-checkpoint note text of `c` (each line ending in a newline), ready to be signed. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || c.origin.includes('\n')) fail('the checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) fail(`the checkpoint size must be a non-negative safe integer, got ${String(c.size)}`);
  if (c.root.length !== 32) fail(`the checkpoint root hash must be 32 bytes, got ${c.root.length}`);
  if (c.extensions.some((line) => line === '' || line.includes('\n'))) fail('checkpoint extension lines must be single non-empty lines');
  return [c.origin, String(c.size), toBase64(c.root), ...c.extensions].map((line) => `${line}\n`).join('');
}
