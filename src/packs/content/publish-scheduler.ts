import type { JobContext } from '../../catalog/pack-module.js';
import { DEFAULT_SCHEDULER_INTERVAL_MS } from '../../config/config.js';
import { CODES, isCode } from '../../core/codes.js';
import { Periodic } from '../../util/periodic.js';
import { SCHEDULE_TYPE, scheduleFailureRequestId, type ScheduleIndexDoc } from './schedule.js';

/** Schedules read per `listEntities` call. */
const PAGE_SIZE = 256;

/** Reasons are cut to this length (CancelSchedule's schema allows 1024). */
const MAX_REASON = 1000;


/** What the scheduler uses of its job's context (JobContext), and how often it looks. */
export interface PublishSchedulerOptions extends Pick<JobContext, 'list' | 'answered' | 'submit'> {
  /** The tenants that may hold schedules (as a job: those with a `content` log). */
  readonly tenants: () => Iterable<string>;
  /**
   * Tenants whose due schedules wait, still pending (JobContext.held: a `blocked` or `readonly` flag
   * on the tenant or on actor `writ`). The system submit does not run the limits stage, so the scheduler asks.
   */
  readonly held?: (tenant: string) => boolean;
  readonly now?: () => number;
  readonly intervalMs?: number;
}

/** The part of an answer body the scheduler reads. */
interface Answer {
  readonly status: 'OK' | 'ERROR';
  readonly code?: string;
  readonly message?: string;
  readonly receipt?: { readonly log: string; readonly index: number };
}

type Tenanted = ScheduleIndexDoc & { readonly tenant: string };

/**
 * Publishes scheduled pages when they are due (`at <= now`): for each, it submits
 * `PublishPageVersion {pageId}` as the system actor with the schedule's deterministic requestId, so
 * the publish is a ledger record by `writ`, and a scheduler that crashed after publishing never
 * publishes twice (the stored outcome answers; the publish also closed the schedule in its own
 * record). When the publish is refused (the page was locked or edited meanwhile), it closes the
 * schedule with `CancelSchedule`, naming the code and the ledger record of the refusal; a transient
 * refusal (UNAVAILABLE, RATE_LIMITED, …) leaves it pending for the next tick.
 */
export class PublishScheduler {
  private readonly now: () => number;
  private readonly periodic: Periodic;

  constructor(private readonly options: PublishSchedulerOptions) {
    this.now = options.now ?? Date.now;
    this.periodic = new Periodic(() => this.sweep(), options.intervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS, 'scheduled publishing failed; retrying at the next tick');
  }

  /** Ticks every intervalMs; a tick still running is not started again. */
  start(): void {
    this.periodic.start();
  }

  /** Stops, and waits for a run in progress. */
  close(): Promise<void> {
    return this.periodic.close();
  }

  /** Handles every due schedule once; resolves to how many it closed (published or failed). */
  tick(): Promise<number> {
    return this.periodic.tick();
  }

  private async sweep(): Promise<number> {
    const due: Tenanted[] = [];
    for (const tenant of new Set(this.options.tenants())) {
      if (!this.options.held?.(tenant)) due.push(...(await this.dueIn(tenant)));
    }
    let closed = 0;
    for (const s of due) if (await this.fire(s)) closed++;
    return closed;
  }

  /** Pending schedules of one tenant with at <= now, read from the due-schedule index only. */
  private async dueIn(tenant: string): Promise<Tenanted[]> {
    const now = this.now();
    const due: Tenanted[] = [];
    let after: string | null = null;
    for (;;) {
      const rows = await this.options.list(tenant, SCHEDULE_TYPE, after, PAGE_SIZE);
      for (const row of rows) {
        const doc = row.doc as ScheduleIndexDoc;
        if (Date.parse(doc.at) <= now) due.push({ ...doc, tenant });
      }
      if (rows.length < PAGE_SIZE) return due;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Publishes one due schedule; true when the schedule is closed afterwards. */
  private async fire(s: Tenanted): Promise<boolean> {
    let answer = (await this.stored(s.tenant, s.requestId)) ?? parse(await this.options.submit(s.tenant, 'PublishPageVersion', { pageId: s.pageId }, s.requestId));
    if (answer.code === 'IDEMPOTENCY_KEY_REUSED') {
      // Another scheduler (another writ process on the same store) attempted it first.
      const first = await this.stored(s.tenant, s.requestId);
      if (!first) return false;
      answer = first;
    }
    if (answer.status === 'OK') return true;
    if (!isCode(answer.code) || CODES[answer.code].transient) return false;
    const where = answer.receipt ? ` (${answer.receipt.log} #${answer.receipt.index})` : '';
    const reason = `the scheduled publish failed with ${answer.code}${where}: ${answer.message ?? ''}`.slice(0, MAX_REASON);
    const cancel = parse(await this.options.submit(s.tenant, 'CancelSchedule', { pageId: s.pageId, at: s.at, reason }, scheduleFailureRequestId(s.requestId)));
    // INVALID_STATE: the schedule was replaced or withdrawn meanwhile; nothing left to close.
    return cancel.status === 'OK' || cancel.code === 'INVALID_STATE';
  }

  private async stored(tenant: string, requestId: string): Promise<Answer | null> {
    const answer = await this.options.answered(tenant, requestId);
    return answer ? parse(answer) : null;
  }
}

function parse(reply: { readonly httpStatus: number; readonly body: string }): Answer {
  return JSON.parse(reply.body) as Answer;
}
