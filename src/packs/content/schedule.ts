import { sha256Hex } from '../../core/hash.js';

/**
 * Entity type of the due-schedule index: one `schedule/<pageId>` entity exists (is not a tombstone)
 * exactly while the page has a pending scheduled publish. The scheduler lists these per tenant
 * (`Store.listEntities`), so finding due schedules costs the number of pending schedules, never a
 * scan of the ledger or of every page. The page's own `schedule` field keeps the full story.
 */
export const SCHEDULE_TYPE = 'schedule';

/** The document of a `schedule/<pageId>` entity. */
export interface ScheduleIndexDoc {
  readonly pageId: string;
  /** When to publish: RFC 3339, UTC, milliseconds (`Date.prototype.toISOString`). */
  readonly at: string;
  /** The requestId to publish with. */
  readonly requestId: string;
}

/** Longest requestId a schedule gets, leaving room for a suffix within the envelope's 128. */
const MAX_SCHEDULE_REQUEST_ID = 120;

/**
 * The requestId of a scheduled publish: `schedule:<pageId>:<at>`, or, when a long pageId would make
 * it longer than 120 characters, `schedule-h:<first 32 hex of SHA-256(pageId)>:<at>`. Deterministic,
 * so that a scheduler that crashed after publishing and tries again is answered by idempotency.
 */
export function scheduleRequestId(pageId: string, at: string): string {
  const plain = `schedule:${pageId}:${at}`;
  return plain.length <= MAX_SCHEDULE_REQUEST_ID ? plain : `schedule-h:${sha256Hex(pageId).slice(0, 32)}:${at}`;
}

/** The requestId with which the scheduler closes a schedule whose publish failed. */
export function scheduleFailureRequestId(scheduleRequestId: string): string {
  return `${scheduleRequestId}:failed`;
}
