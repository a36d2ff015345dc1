import type { PackReads } from '../../../catalog/pack-module.js';
import type { StoredOutboxRow } from '../../../store/port.js';

/** The outbox actions the mirror keeps: the ops pack's, and the approval decisions on a held op. */
export const AUDIT_ACTIONS = ['SubmitOp', 'RollbackOp', 'StartOpAttempt', 'RecordOpResult', 'writ.Approve', 'writ.Reject', 'writ.ExpireApproval'] as const;
const OP_ACTIONS = new Set(['SubmitOp', 'RollbackOp']);

/** Where an event belongs: its op and the op's workspace. */
export interface Located {
  readonly op: string;
  readonly workspace: string;
}

type Doc = Record<string, any> | null | undefined;

async function docOf(reads: Pick<PackReads, 'get'>, tenant: string, type: string, id: unknown): Promise<Doc> {
  if (typeof id !== 'string') return null;
  const row = await reads.get(tenant, type, id);
  return row && !row.deleted ? (row.doc as Doc) : null;
}

/** The workspace a held SubmitOp or RollbackOp names: its own, or that of the op it undoes. */
async function heldWorkspace(reads: Pick<PackReads, 'get'>, tenant: string, approval: Doc): Promise<string | null> {
  const payload = approval?.envelope?.payload as Doc;
  if (typeof payload?.workspace === 'string') return payload.workspace;
  const undone = await docOf(reads, tenant, 'op', payload?.undoes);
  return typeof undone?.workspace === 'string' ? undone.workspace : null;
}

/**
 * The op and workspace of an outbox event, or null when it is not about an op (an approval of
 * another pack's command). Op events carry the op document; a held op's event and the approval
 * decisions carry (or name) the approval, whose envelope names the workspace.
 */
export async function locate(reads: Pick<PackReads, 'get'>, event: StoredOutboxRow, data: Doc): Promise<Located | null> {
  if (event.action.startsWith('writ.')) {
    const approval = data?.doc as Doc;
    if (!approval || !OP_ACTIONS.has(approval.action) || typeof approval.target !== 'string' || !approval.target.startsWith('op/')) return null;
    const workspace = await heldWorkspace(reads, event.tenant, approval);
    return workspace ? { op: approval.target.slice(3), workspace } : null;
  }
  if (!event.target?.startsWith('op/')) return null;
  const op = event.target.slice(3);
  const doc = data?.doc as Doc;
  if (typeof doc?.workspace === 'string') return { op, workspace: doc.workspace };
  // A held op: no op document yet; the approval it waits for names it.
  const workspace = await heldWorkspace(reads, event.tenant, await docOf(reads, event.tenant, 'approval', data?.approval?.id));
  return workspace ? { op, workspace } : null;
}
