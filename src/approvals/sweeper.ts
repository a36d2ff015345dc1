import type { SystemSubmit } from '../pipeline/system.js';
import type { EntityStore } from '../store/port.js';
import { Periodic } from '../util/periodic.js';
import type { FollowUp } from './decide.js';
import { ceilingRevertRequestId, EXPIRE_ACTION, expiryRequestId, OPEN_APPROVAL_TYPE, REVERT_ACTION, type OpenApprovalDoc } from './pending.js';

import { DEFAULT_SWEEP_INTERVAL_MS } from '../config/config.js';

/** Index entries read per `listEntities` call. */
const PAGE_SIZE = 256;


export interface ApprovalSweeperOptions {
  readonly store: Pick<EntityStore, 'listEntities'>;
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
 * Likewise it reverts a command staged in the airlock past its ceiling (`writ.Revert`, requestId
 * `revert:<approvalId>:<ceiling ms>`, one per staging).
 */
export class ApprovalSweeper {
  private readonly now: () => number;
  private readonly periodic: Periodic;

  constructor(private readonly options: ApprovalSweeperOptions) {
    this.now = options.now ?? Date.now;
    this.periodic = new Periodic(() => this.sweep(), options.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, 'expiring approvals failed; retrying at the next sweep');
  }

  /** Sweeps every intervalMs; a sweep still running is not started again. */
  start(): void {
    this.periodic.start();
  }

  /** Stops, and waits for a run in progress. */
  close(): Promise<void> {
    return this.periodic.close();
  }

  /** Expires every due approval, and reverts every staging past its ceiling, once; resolves to how many. */
  tick(): Promise<number> {
    return this.periodic.tick();
  }

  private async sweep(): Promise<number> {
    let done = 0;
    for (const tenant of new Set(this.options.tenants())) {
      for (const f of await this.dueIn(tenant)) {
        const reply = await this.options.submit(tenant, f.action, f.payload, f.requestId);
        if ((JSON.parse(reply.body) as { status: string }).status === 'OK') done++;
      }
    }
    return done;
  }

  /** What is due in one tenant: an expiry past the TTL, or (while staged, frozen) a revert past the ceiling. */
  private async dueIn(tenant: string): Promise<FollowUp[]> {
    const now = this.now();
    const due: FollowUp[] = [];
    let after: string | null = null;
    for (;;) {
      const rows = await this.options.store.listEntities(tenant, OPEN_APPROVAL_TYPE, after, PAGE_SIZE);
      for (const row of rows) {
        const doc = row.doc as OpenApprovalDoc;
        const payload = { approvalId: doc.approvalId };
        if (doc.ceilingAt !== undefined) {
          // airlock.expired(): a staging reverts itself once the clock is past its ceiling.
          const ceilingMs = Date.parse(doc.ceilingAt);
          if (now > ceilingMs) due.push({ action: REVERT_ACTION, payload, requestId: ceilingRevertRequestId(doc.approvalId, ceilingMs) });
        } else if (Date.parse(doc.expiresAt) <= now) due.push({ action: EXPIRE_ACTION, payload, requestId: expiryRequestId(doc.approvalId) });
        this.options.keep?.(tenant, doc.requester, doc.requestId);
      }
      if (rows.length < PAGE_SIZE) return due;
      after = rows[rows.length - 1]!.id;
    }
  }
}
