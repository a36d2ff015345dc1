import type { EntityStore } from '../store/port.js';
import { APPROVAL_TYPE, OPEN_APPROVAL_TYPE, type ApprovalDoc, type ApprovalStatus } from './pending.js';

export interface ApprovalPage {
  readonly docs: ApprovalDoc[];
  /** The `after` of the next page, or null when this one is the last. */
  readonly next: string | null;
}

/**
 * A page of a tenant's approvals in id order (UUIDv7: oldest first), read from state only. Pending
 * ones come from the open-approval index, so listing them costs the number of pending commands;
 * any other status is a filter over the tenant's `approval` entities.
 */
export async function listApprovals(store: Pick<EntityStore, 'listEntities' | 'getEntity'>, tenant: string, status: ApprovalStatus | undefined, after: string | null, limit: number): Promise<ApprovalPage> {
  const docs: ApprovalDoc[] = [];
  if (status === 'pending') {
    const open = await store.listEntities(tenant, OPEN_APPROVAL_TYPE, after, limit);
    for (const row of open) {
      const approval = await store.getEntity(tenant, APPROVAL_TYPE, row.id);
      if (approval && (approval.doc as ApprovalDoc).status === 'pending') docs.push(approval.doc as ApprovalDoc);
    }
    return { docs, next: open.length === limit ? open[open.length - 1]!.id : null };
  }
  let cursor = after;
  for (;;) {
    const rows = await store.listEntities(tenant, APPROVAL_TYPE, cursor, limit);
    for (const row of rows) {
      const doc = row.doc as ApprovalDoc;
      if (status === undefined || doc.status === status) docs.push(doc);
      if (docs.length === limit) return { docs, next: row.id };
    }
    if (rows.length < limit) return { docs, next: null };
    cursor = rows[rows.length - 1]!.id;
  }
}

/** An approval as the read API shows it: without the envelope (see `GET /v1/approvals/{id}`), with its deadline. */
export function approvalSummary(doc: ApprovalDoc, nowMs: number) {
  const { envelope: _envelope, sigDigest: _sigDigest, ...rest } = doc;
  const expiresMs = Date.parse(doc.expiresAt);
  const open = doc.status === 'pending';
  return {
    ...rest,
    deadlines: {
      expiresAt: doc.expiresAt,
      secondsLeft: open ? Math.max(0, Math.ceil((expiresMs - nowMs) / 1000)) : null,
      // Past its TTL but not expired yet: the sweeper, or the next decision on it, will record the expiry.
      lapsed: open && nowMs >= expiresMs,
    },
  };
}
