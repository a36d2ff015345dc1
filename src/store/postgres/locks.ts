/**
 * The advisory locks of a shared database, as (classid, objid) pairs of pg_advisory_lock(int4, int4)
 * (pg_locks shows them with objsubid 2). 0x77726974 is "writ".
 */
export const LOCKS = {
  /** The write turn: held from planning a batch to its commit (pg-writer.ts). */
  writer: [0x77726974, 1],
  /** The checkpoint signer: one integrator at a time. */
  signer: [0x77726974, 2],
  /** The outbox dispatcher: one per database, so each sink gets each event once, in order. */
  outbox: [0x77726974, 3],
} as const;

export type LockName = keyof typeof LOCKS;

/**
 * The handover barrier of each lease: a holder's write transaction takes it shared before checking
 * that it holds the lease, and a process that has just taken the lease takes it exclusively once
 * (waiting for those transactions) before acting, so a write of its predecessor that passed the
 * check lands before the successor reads, never after.
 */
export const FENCES = {
  signer: [0x77726974, 12],
  outbox: [0x77726974, 13],
} as const;

export type LeaseName = keyof typeof FENCES;

/** SQL that is true when the backend `$3` holds the lock ($1, $2): a fence for a lease holder's writes. */
export const HOLDS_LOCK = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted AND pid = $3) AS held";
