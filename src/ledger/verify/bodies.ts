import type { ActionDef } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import { unsignedPart, type Envelope } from '../../core/envelope.js';
import { sha256Hex } from '../../core/hash.js';
import type { Redaction } from '../../store/port.js';
import type { LedgerRecord } from '../record.js';
import { isRedactedBody, replayedBody } from '../redaction/erase.js';

/** The placeholder the applier stores for a secret field (src/pipeline/apply/ledger-writer.ts). */
const WITHHELD = '[withheld]';

/** What the stored body of a record turned out to be. */
export type BodyVerdict =
  | { readonly kind: 'ok'; readonly envelope: Envelope }
  /**
   * Erased by a redaction that a writ.Redact record made; `envelope`: the redacted body that stays
   * (replayed), or null; `inPlace`: its command could not be re-run on the redacted body, so the
   * versions it wrote were erased in place and are taken as erased (erase.ts ERASED_NOT_REPLAYABLE):
   * the body that stays, which says so.
   */
  | { readonly kind: 'redacted'; readonly envelope: Envelope | null; readonly inPlace?: Envelope }
  /** Stored with its secret fields withheld (writ.Stage/Land `code`): it cannot hash to the commandHash. */
  | { readonly kind: 'withheld' }
  | { readonly kind: 'bad'; readonly message: string };

/** The OK writ.Redact records of the deployment, by `<tenant>\n<scroll>/<index>` of the entry they erased. */
export type RedactRecords = ReadonlyMap<string, LedgerRecord>;

/**
 * Checks one stored command body against its ledger record: RFC 8785 of the envelope without its
 * signature must hash (SHA-256) to the record's `commandHash` — what intake computed when it came in
 * — and name the record's tenant, actor, action and requestId. A missing body must be erased by a
 * redaction row that a `writ.Redact` record of the tenant made (same entry, same actor), else the
 * body was deleted behind writ's back; what stays of a redacted body (src/ledger/redaction/erase.ts,
 * `kept` its kept fields) must be a redacted body of the record's command, which the replay then
 * runs. A body whose secret fields were withheld when it was stored
 * cannot be hashed (the code is gone): it is reported as such, never as verified.
 */
export function checkBody(record: LedgerRecord, body: string | null, redaction: Redaction | null, redacts: RedactRecords, action: ActionDef | undefined, kept?: ReadonlySet<string>): BodyVerdict {
  if (body === null && !redaction) return { kind: 'bad', message: 'its stored body is missing and no redaction erased it (the body was deleted)' };
  if (redaction) {
    const by = redacts.get(`${record.tenant}\n${record.scroll}/${record.index}`);
    if (!by) return { kind: 'bad', message: 'its stored body was erased by a redaction that no writ.Redact record made (a forged redaction)' };
    if (by.actor !== redaction.redactedBy) return { kind: 'bad', message: `its redaction names ${redaction.redactedBy}, but writ.Redact record ${by.scroll}/${by.index} was ${by.actor}'s` };
    if (body === null) return { kind: 'redacted', envelope: null };
  }
  let env: Envelope;
  try {
    env = JSON.parse(body!) as Envelope;
  } catch {
    return { kind: 'bad', message: 'its stored body is not JSON (the body was changed)' };
  }
  if (env === null || typeof env !== 'object' || typeof env.payload !== 'object' || env.payload === null) return { kind: 'bad', message: 'its stored body is not an envelope (the body was changed)' };
  // What stays of a redacted body is replayed: it must name the record's command and hold no value left to erase.
  if (redaction) {
    if (!kept || !isRedactedBody(env, kept)) return { kind: 'bad', message: 'its stored body was redacted, but what stays of it is not a redacted body (values were put back or changed)' };
    const named = namesRecord(env, record);
    if (named) return { kind: 'bad', message: named };
    return replayedBody(env) ? { kind: 'redacted', envelope: env } : { kind: 'redacted', envelope: null, inPlace: env };
  }
  const secret = action?.secretFields?.filter((f) => env.payload[f] === WITHHELD) ?? [];
  if (secret.length > 0) return { kind: 'withheld' };
  let hash: string;
  try {
    hash = sha256Hex(jcs(unsignedPart(env)));
  } catch {
    return { kind: 'bad', message: 'its stored body cannot be canonicalised (the body was changed)' };
  }
  if (hash !== record.commandHash) return { kind: 'bad', message: `its stored body does not hash to its commandHash (${hash} ≠ ${record.commandHash}): the body was changed` };
  const named = namesRecord(env, record);
  return named ? { kind: 'bad', message: named } : { kind: 'ok', envelope: env };
}

/** Why a stored body does not name its record's command, or null. */
function namesRecord(env: Envelope, record: LedgerRecord): string | null {
  for (const field of ['tenant', 'actor', 'action', 'requestId'] as const) {
    if (env[field] !== record[field]) return `its stored body names ${field} ${JSON.stringify(env[field])}, the record ${JSON.stringify(record[field])}`;
  }
  return null;
}
