import type { Store } from './port.js';

/**
 * What a store that several writ processes share offers besides the Store port (the PostgreSQL
 * adapter; docs/deploy.md). The port's contract stays as it is for one process; these let the
 * processes take turns and elect one checkpoint signer and one outbox dispatcher.
 */

/** How the world changed since this process's last turn. */
export interface TurnStart {
  /** Another process committed since: cached log heads (and entity reads) are stale. */
  readonly moved: boolean;
  /** Another process wrote a key, role or flag since: the directory is stale. */
  readonly registries: boolean;
}

/**
 * The database's writer lock, held from planning a batch to its commit. A process plans batches only
 * within its turn, so every batch is planned on the state the previous one (of any process) left.
 */
export interface WriteTurn {
  /** Waits for the lock; rejects when the database cannot be reached. */
  begin(): Promise<TurnStart>;
  /** Gives the lock up; call once every batch planned in the turn has settled. */
  end(): Promise<void>;
}

/** A role at most one process holds at a time, taken over when its holder dies (an advisory lock). */
export interface Lease {
  /** True while this process holds the role. */
  held(): boolean;
  /**
   * This holding of the role (another number after each loss and takeover), or null while not
   * held. Writes made for a holding pass it, and the store refuses them in a later holding.
   */
  term(): number | null;
  /** Resolves after the first attempt to take the role (so a lone process holds it from the start). */
  ready(): Promise<void>;
  /** Told when this process takes the role, or loses it. */
  onChange: ((held: boolean) => void) | undefined;
  close(): Promise<void>;
}

export interface SharedStore {
  readonly turn: WriteTurn;
  /** Counts the batches (of any process) that wrote a key, role or flag. */
  registryEpoch(): Promise<number>;
  /** The lease of a role; the store checks it again in the transaction of the role's writes. */
  lease(role: 'signer' | 'outbox'): Lease;
}

/**
 * Calls `reload` when another process changed the key, role or flag registry, polling every
 * `intervalMs` (and once at the first poll, for a change made while this process was starting), so
 * that a process that does not write learns new keys and revocations too. Returns the stop function.
 */
export function followRegistries(shared: SharedStore, reload: () => Promise<void>, intervalMs = 1000): () => void {
  let seen: number | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void shared
      .registryEpoch()
      .then(async (n) => {
        if (n !== seen) await reload();
        seen = n;
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The lease, once its first attempt is done. */
export async function leaseReady(lease: Lease): Promise<Lease> {
  await lease.ready();
  return lease;
}

/** The store's sharing capabilities, or null for a store one process owns (SQLite). */
export function sharedOf(store: Store): SharedStore | null {
  return 'turn' in store && 'lease' in store ? (store as unknown as SharedStore) : null;
}

/**
 * Views of one lease for several followers (the outbox dispatcher and each pack's consumer): each
 * view has its own `onChange`; closing a view stops its notices, never the lease (the store closes it).
 */
export function shareLease(lease: Lease): () => Lease {
  const views = new Set<Lease>();
  lease.onChange = (held) => {
    for (const v of views) v.onChange?.(held);
  };
  return () => {
    const view: Lease = {
      held: () => lease.held(),
      term: () => lease.term(),
      ready: () => lease.ready(),
      onChange: undefined,
      close: async () => {
        views.delete(view);
      },
    };
    views.add(view);
    return view;
  };
}
