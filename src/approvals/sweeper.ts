import type { Store } from '../store/port.js';
import { logError } from '../util/log.js';
import { EXPIRE_ACTION, expiryRequestId, OPEN_APPROVAL_TYPE, type OpenApprovalDoc } from './pending.js';

import { DEFAULT_SWEEP_INTERVAL_MS } from '../config/config.js';

/** Index entries read per `listEntities` call. */
const PAGE_SIZE = 256;

/**
 * Submits a command on writ's own authority (`Pipeline.system`, bound): it MUST validate and record
 * it like any other, and answer a requestId with a stored outcome from that outcome, never by
 * applying it again.
 */
export type SystemSubmit = (tenant: string, action: string, payload: Record<string, unknown>, requestId: string) => Promise<{ readonly httpStatus: number; readonly body: string }>;

export interface ApprovalSweeperOptions {
  readonly store: Pick<Store, 'listEntities'>;
  readonly submit: SystemSubmit;
  /** The tenants that may hold approvals (in writ.ts: every tenant with a log). */
  readonly tenants: () => Iterable<string>;
  /**
   * Told, at every sweep, the idempotency key of each command still pending: its 202 outcome is kept
   * past the retention (the store does not prune 202s), and in writ.ts the filter of known keys
   * (KnownKeys, which forgets keys after one or two retention periods) hears of it again.
   */
  readonly keep?: (tenant: string, actor: string, requestId: string) => void;
  readonly now?: () => number;
  readonly intervalMs?: number;
}

/**
 * Expires commands held for approval once their TTL has passed, so that every expiry is a ledger
 * record even when nobody decides on the command again: for each due entry of the open-approval
 * index (never the ledger, never every approval) it submits `writ.ExpireApproval {approvalId}` as
 * writ's system actor, with the deterministic requestId `expire:<approvalId>` that a late decision
 * uses too (whichever comes second is answered by idempotency or refused, never applied twice).
 */
export class ApprovalSweeper {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: ApprovalSweeperOptions) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  }

  /** Sweeps every intervalMs; a sweep still running is not started again. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch((err) => logError('expiring approvals failed; retrying at the next sweep', err)), this.intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Expires every due approval once; resolves to how many it expired. */
  tick(): Promise<number> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<number> {
    let expired = 0;
    for (const tenant of new Set(this.options.tenants())) {
      for (const approvalId of await this.dueIn(tenant)) {
        const reply = await this.options.submit(tenant, EXPIRE_ACTION, { approvalId }, expiryRequestId(approvalId));
        if ((JSON.parse(reply.body) as { status: string }).status === 'OK') expired++;
      }
    }
    return expired;
  }

  private async dueIn(tenant: string): Promise<string[]> {
    const now = this.now();
    const due: string[] = [];
    let after: string | null = null;
    for (;;) {
      const rows = await this.options.store.listEntities(tenant, OPEN_APPROVAL_TYPE, after, PAGE_SIZE);
      for (const row of rows) {
        const doc = row.doc as OpenApprovalDoc;
        if (Date.parse(doc.expiresAt) <= now) due.push(doc.approvalId);
        else this.options.keep?.(tenant, doc.requester, doc.requestId);
      }
      if (rows.length < PAGE_SIZE) return due;
      after = rows[rows.length - 1]!.id;
    }
  }
}
