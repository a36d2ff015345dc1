import { WritError } from '../core/errors.js';
import { fromBase64, parseCheckpoint, parseNote, type Checkpoint, type Hash, type Note } from '../core/tlog/index.js';

/** C2SP tlog-witness: a client MUST NOT send more than 63 consistency proof lines. */
export const MAX_PROOF_LINES = 63;

/** A parsed add-checkpoint request body (C2SP tlog-witness). Nothing in it is verified yet. */
export interface AddCheckpointRequest {
  /** The size of the checkpoint the client believes the witness cosigned last. */
  readonly old: number;
  readonly proof: Hash[];
  /** The signed checkpoint note, exactly as sent. */
  readonly noteText: string;
  readonly note: Note;
  readonly checkpoint: Checkpoint;
}

function bad(why: string): never {
  throw new WritError('WITNESS_BAD_REQUEST', why);
}

/**
 * Parses an add-checkpoint body strictly (C2SP tlog-witness): `old <size>` in decimal without
 * leading zeroes, at most 63 base64 hash lines, an empty line, then a signed checkpoint note; every
 * line ends with a newline. Throws WITNESS_BAD_REQUEST naming what is wrong.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const firstEnd = body.indexOf('\n');
  if (firstEnd < 0) bad('the body must start with an "old <size>" line ending in a newline');
  const m = /^old (0|[1-9][0-9]{0,15})$/.exec(body.slice(0, firstEnd));
  if (!m) bad(`the first line must be "old <size>" (decimal, no leading zeroes), got ${JSON.stringify(body.slice(0, Math.min(firstEnd, 40)))}`);
  const old = Number(m[1]);
  if (!Number.isSafeInteger(old)) bad(`old size ${m[1]} is beyond 2^53 - 1, the largest supported`);

  const proof: Hash[] = [];
  let at = firstEnd + 1;
  for (;;) {
    const end = body.indexOf('\n', at);
    if (end < 0) bad('no empty line between the consistency proof and the checkpoint');
    const line = body.slice(at, end);
    at = end + 1;
    if (line === '') break;
    if (proof.length === MAX_PROOF_LINES) bad(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    let hash: Uint8Array;
    try {
      hash = fromBase64(line);
    } catch {
      bad(`consistency proof line ${proof.length + 1} is not canonical base64`);
    }
    if (hash.length !== 32) bad(`consistency proof line ${proof.length + 1} decodes to ${hash.length} bytes instead of a 32-byte hash`);
    proof.push(hash);
  }

  const noteText = body.slice(at);
  let note: Note;
  let checkpoint: Checkpoint;
  try {
    note = parseNote(noteText);
    checkpoint = parseCheckpoint(note.text);
  } catch (err) {
    bad(`the checkpoint is not a valid signed note: ${(err as Error).message}`);
  }
  return { old, proof, noteText, note, checkpoint };
}
