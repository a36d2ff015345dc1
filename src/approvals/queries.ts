import type { Catalog } from '../catalog/catalog.js';
import type { Directory } from '../state/directory.js';
import type { EntityRow, EntityStore, LogStore } from '../store/port.js';
import { listApprovals, type ApprovalPage } from './listing.js';
import { APPROVAL_TYPE, type ApprovalDoc, type ApprovalStatus } from './pending.js';
import { previewOf, type Preview } from './preview.js';

/** Commands held for approval, as the read API shows them: read from state, never from the ledger. */
export interface ApprovalQueries {
  /** A page of a tenant's approvals in id order (listing.ts). */
  list(tenant: string, status: ApprovalStatus | undefined, after: string | null, limit: number): Promise<ApprovalPage>;
  /** The approval entity of one held command, or null. */
  get(tenant: string, approvalId: string): Promise<EntityRow | null>;
  /** What the held command would do if it ran now (preview.ts). */
  preview(doc: ApprovalDoc): Promise<Preview>;
}

export interface ApprovalQueryDeps {
  readonly store: Pick<EntityStore, 'getEntity' | 'listEntities'> & Pick<LogStore, 'readLedger'>;
  readonly catalog: Catalog;
  readonly directory: Directory;
  readonly now: () => number;
}

export function approvalQueries(deps: ApprovalQueryDeps): ApprovalQueries {
  return {
    list: (tenant, status, after, limit) => listApprovals(deps.store, tenant, status, after, limit),
    get: (tenant, approvalId) => deps.store.getEntity(tenant, APPROVAL_TYPE, approvalId),
    preview: (doc) => previewOf(doc, deps),
  };
}
