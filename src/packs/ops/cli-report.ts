/** An op as `writ ops` reads it (the op entity's document and version). */
export interface OpView {
  readonly id: string;
  readonly kind: string;
  readonly workspace: string;
  readonly resource: string;
  readonly status: string;
  readonly attempts: number;
  readonly deadline: string | null;
  readonly submittedAt: string;
  readonly rollbackOf: string | null;
  readonly rolledBackBy: string | null;
  readonly lost: ReadonlyArray<{ attempt: number; deadline: string; noticedAt: string }>;
  readonly results: ReadonlyArray<{ attempt: number; outcome: string; error: string | null }>;
  readonly version: number;
}

/**
 * `writ ops status`: the ops that need someone's attention. An overdue op is running past its
 * deadline with no result: the attempt is lost (writ stopped while the executor ran, or the
 * effector is not running) — a gap the ledger shows, not a silence.
 */
export function opsReport(tenant: string, ops: readonly OpView[], held: ReadonlyArray<Record<string, unknown>>, nowMs: number) {
  const counts: Record<string, number> = { held: held.length, pending: 0, running: 0, succeeded: 0, failed: 0 };
  for (const o of ops) counts[o.status] = (counts[o.status] ?? 0) + 1;
  const overdue = ops
    .filter((o) => o.status === 'running' && o.deadline !== null && Date.parse(o.deadline) < nowMs)
    .map((o) => ({ op: o.id, attempt: o.attempts, deadline: o.deadline!, overdueSeconds: Math.round((nowMs - Date.parse(o.deadline!)) / 1000), next: 'attempt it again or fail it (ops.effector.overdue)' }));
  return {
    tenant,
    at: new Date(nowMs).toISOString(),
    counts,
    held,
    running: ops.filter((o) => o.status === 'running').map((o) => ({ op: o.id, kind: o.kind, attempt: o.attempts, deadline: o.deadline })),
    overdue,
    lostAttempts: ops.filter((o) => o.lost.length > 0).map((o) => ({ op: o.id, status: o.status, lost: o.lost })),
    failed: ops.filter((o) => o.status === 'failed').map((o) => ({ op: o.id, kind: o.kind, attempts: o.attempts, lastError: o.results.at(-1)?.error ?? null })),
  };
}
