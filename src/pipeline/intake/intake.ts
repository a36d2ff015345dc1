import { jcsBytes } from '../../canonical/jcs.js';
import { checkEnvelopeShape, unsignedPart } from '../../core/envelope.js';
import { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import { parseStrictJson } from '../../core/strict-json.js';
import type { Intake, Submission } from '../context.js';

export interface IntakeLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/**
 * Parses the body defensively, checks the envelope's shape, and computes the canonical bytes and
 * the commandHash (DESIGN §2). Identity fields may be missing only when a bearer token came along.
 */
export function intake(submission: Submission, limits: IntakeLimits): Intake {
  if (submission.body.byteLength > limits.maxBytes) {
    throw new WritError('PAYLOAD_TOO_LARGE', `the body is ${submission.body.byteLength} bytes; the limit is ${limits.maxBytes}`);
  }
  if (submission.body.byteLength === 0) throw new WritError('INVALID_ENVELOPE', 'the body is empty; send a JSON command envelope');
  const value = parseStrictJson(submission.body, { maxDepth: limits.maxDepth });
  const envelope = checkEnvelopeShape(value, submission.bearer !== undefined);
  const canonical = jcsBytes(unsignedPart(envelope));
  return { envelope, canonical, commandHash: sha256Hex(canonical) };
}
