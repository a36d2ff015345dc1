import { jcs } from '../../canonical/jcs.js';
import { CODES, type Code } from '../../core/codes.js';
import type { Envelope } from '../../core/envelope.js';
import { sha256Hex } from '../../core/hash.js';
import type { StoredOutcome } from '../../store/port.js';
import type { LedgerRecord } from '../record.js';

/** A record as the answer check needs it. */
export interface AnsweredRecord {
  readonly record: LedgerRecord;
  readonly leafHash: string;
  /** The verified stored body, when there is one. */
  readonly envelope: Envelope | null;
  /** Its body was erased by a writ.Redact record (checked against it): its answer's result may be erased too. */
  readonly redacted?: boolean;
  /** For a PENDING record: the record that ended the held command, once it has. */
  readonly final?: { readonly record: LedgerRecord };
}

/**
 * Why a stored answer (the idempotency outcome that `GET /v1/commands/…` serves and a retry
 * replays) is not the answer its ledger record committed to, or null. The answer must name the
 * record's command (requestId, commandHash) and carry its receipt; an OK answer's `result`, and a
 * 202's `approval`, must hash (SHA-256 of RFC 8785) to the record's resultHash; a refusal must carry
 * the record's code with that code's HTTP status. A refusal's message and details are not in the
 * record and cannot be checked. The 202 of a held command that has ended must have been replaced.
 */
export function checkAnswer(o: StoredOutcome, origin: string, at: AnsweredRecord | undefined): string | null {
  if (!at) return `its stored answer names record ${o.scroll}/${o.index}, which does not exist`;
  const r = at.record;
  if (r.actor !== o.actor || r.requestId !== o.requestId || r.commandHash !== o.commandHash) {
    return `its stored answer names record ${o.scroll}/${o.index}, which is ${r.actor}'s ${r.requestId} (commandHash ${r.commandHash}), not this command (commandHash ${o.commandHash})`;
  }
  let a: Record<string, any>;
  try {
    a = JSON.parse(o.response) as Record<string, any>;
  } catch {
    return 'its stored answer is not JSON';
  }
  if (a === null || typeof a !== 'object') return 'its stored answer is not an answer object';
  if (a.requestId !== o.requestId || a.commandHash !== o.commandHash) return `its stored answer names requestId ${JSON.stringify(a.requestId)} and commandHash ${JSON.stringify(a.commandHash)}`;
  const receipt = a.receipt as Record<string, unknown> | undefined;
  if (receipt?.log !== origin || receipt.index !== r.index || receipt.leafHash !== at.leafHash) return `its stored answer's receipt ${JSON.stringify(receipt)} is not that of record ${r.scroll}/${r.index}`;
  if (at.envelope?.signature && o.sigDigest !== sha256Hex(Buffer.from(at.envelope.signature.sig, 'base64'))) return "its stored sigDigest is not the digest of the stored body's signature";
  switch (r.outcome) {
    case 'OK':
      if (o.httpStatus !== 200 || a.status !== 'OK') return `its stored answer is ${o.httpStatus} ${String(a.status)}, but record ${r.scroll}/${r.index} is OK`;
      // writ.Redact erases the result with the body; without a checked redaction, a missing result is an edit.
      if (a.result === undefined && a.redacted !== undefined) return at.redacted ? null : `its stored answer's result was erased, but no writ.Redact record erased record ${r.scroll}/${r.index} (the answer was changed)`;
      if (sha256Hex(jcs(a.result ?? null)) !== r.resultHash) return `its stored answer's result does not hash to the record's resultHash (record ${r.scroll}/${r.index}): the answer was changed`;
      return null;
    case 'PENDING':
      if (at.final) return `its stored answer is still the 202 of record ${r.scroll}/${r.index}, but the command ended with record ${at.final.record.scroll}/${at.final.record.index} (${at.final.record.outcome})`;
      if (o.httpStatus !== 202 || a.status !== 'PENDING_APPROVAL') return `its stored answer is ${o.httpStatus} ${String(a.status)}, but record ${r.scroll}/${r.index} is PENDING`;
      if (a.approval === undefined || sha256Hex(jcs(a.approval)) !== r.resultHash) return `its stored answer's approval does not hash to the record's resultHash (record ${r.scroll}/${r.index}): the answer was changed`;
      return null;
    default: {
      const code = r.code as Code;
      if (a.status !== 'ERROR' || a.code !== code) return `its stored answer says ${String(a.status)}${a.code ? ` code ${String(a.code)}` : ''}, but record ${r.scroll}/${r.index} refused it with ${code}`;
      if (CODES[code] && o.httpStatus !== CODES[code].http) return `its stored answer has HTTP status ${o.httpStatus}, but ${code} is ${CODES[code].http}`;
      return null;
    }
  }
}
