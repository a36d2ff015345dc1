import type { EntityStore, LogStore } from '../../../store/port.js';
import type { AuditEntry } from './check-entry.js';
import { AUDIT_ACTIONS } from './locate.js';

/** A record that belongs in the mirror and has no entry. */
export interface MissingEntry {
  readonly log: string;
  readonly index: number;
  readonly action: string;
  readonly op: string;
}

type Store = Pick<LogStore, 'readLedger' | 'readEnvelope'> & Pick<EntityStore, 'getEntity'>;
const ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTIONS);
const PAGE = 1000;

async function docOf(store: Store, tenant: string, type: string, id: unknown): Promise<Record<string, any> | null> {
  if (typeof id !== 'string') return null;
  const row = await store.getEntity(tenant, type, id);
  return row && !row.deleted ? (row.doc as Record<string, any>) : null;
}

/** The op and workspace a record is about (as locate.ts files its event), or null. */
async function placeOf(store: Store, tenant: string, scroll: string, index: number, record: Record<string, any>): Promise<{ op: string; workspace: string } | null> {
  const target = String(record.target ?? '');
  let op: string | null = target.startsWith('op/') ? target.slice(3) : null;
  let payload: Record<string, any> | null = null;
  if (target.startsWith('approval/')) {
    const approval = await docOf(store, tenant, 'approval', target.slice(9));
    if (!approval || !['SubmitOp', 'RollbackOp'].includes(approval.action) || !String(approval.target).startsWith('op/')) return null;
    op = String(approval.target).slice(3);
    payload = approval.envelope?.payload ?? null;
  }
  if (!op) return null;
  const doc = await docOf(store, tenant, 'op', op);
  if (typeof doc?.workspace === 'string') return { op, workspace: doc.workspace };
  // A held op that never ran: its envelope names the workspace (or the op it undoes).
  payload ??= (JSON.parse((await store.readEnvelope(tenant, scroll, index)) ?? 'null') as Record<string, any> | null)?.payload ?? null;
  if (typeof payload?.workspace === 'string') return { op, workspace: payload.workspace };
  const undone = await docOf(store, tenant, 'op', payload?.undoes);
  return typeof undone?.workspace === 'string' ? { op, workspace: undone.workspace } : null;
}

/**
 * Records of the logs the mirror reached that made an outbox event the mirror keeps (OK or PENDING,
 * an audited action), belong to its workspace, lie at or before the furthest entry of their log its
 * tree holds or its history committed (`committed`, by log origin), and have no entry in the tree.
 * Records after that are not counted: the mirror may simply lag.
 */
export async function missingEntries(store: Store, where: { tenant: string; workspace: string; originPrefix: string }, entries: readonly AuditEntry[], committed: ReadonlyArray<{ log: string; index: number }>): Promise<MissingEntry[]> {
  const { tenant, workspace } = where;
  const logPrefix = `${where.originPrefix}/${tenant}/`;
  const byLog = new Map<string, { log: string; last: number; held: Set<number> }>();
  const reach = (log: string, index: number, held: boolean) => {
    if (!log.startsWith(logPrefix)) return;
    const scroll = log.slice(logPrefix.length);
    const l = byLog.get(scroll) ?? { log, last: -1, held: new Set<number>() };
    l.last = Math.max(l.last, index);
    if (held) l.held.add(index);
    byLog.set(scroll, l);
  };
  for (const e of entries) reach(e.log, e.index, true);
  for (const c of committed) reach(c.log, c.index, false);
  const missing: MissingEntry[] = [];
  for (const [scroll, l] of byLog) {
    for (let from = 0; from <= l.last; from += PAGE) {
      for (const row of await store.readLedger(tenant, scroll, from, Math.min(PAGE, l.last + 1 - from))) {
        if (l.held.has(row.index) || (row.outcome !== 'OK' && row.outcome !== 'PENDING')) continue;
        const record = JSON.parse(row.leaf.toString('utf8')) as Record<string, any>;
        if (!ACTIONS.has(record.action)) continue;
        const place = await placeOf(store, tenant, scroll, row.index, record);
        if (place?.workspace === workspace) missing.push({ log: l.log, index: row.index, action: record.action, op: place.op });
      }
    }
  }
  return missing;
}
