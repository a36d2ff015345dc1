import type { Lease } from '../store/shared.js';
import { logError } from '../util/log.js';
import type { Dispatcher } from './dispatcher.js';

/**
 * The outbox dispatcher of a store several processes share: it runs only in the process holding the
 * store's outbox lease, so each sink gets each event from one process, in commit order (per entity
 * too). A process taking the lease over opens a new dispatcher, which starts from the cursors its
 * predecessor persisted: events it delivered after its last flush are delivered again (at least
 * once, as after a crash of a single writ). A dispatcher closed because the lease was lost flushes
 * nothing more. `set` tells writ which dispatcher runs, if any.
 */
export function leaseDispatcher(lease: Lease, open: (term: number) => Promise<Dispatcher>, set: (d: Dispatcher | null) => void): { close(): Promise<void> } {
  let current: Dispatcher | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  // `lost`: the lease went away, so the dispatcher closes without a last flush. Were the lease taken
  // back before that flush ran, the lease check would let its stale cursors overwrite a successor's.
  const follow = (held: boolean, lost = !held) => {
    chain = chain.then(async () => {
      if (held && !current && !closed) {
        try {
          // A lease lost meanwhile has no term: -1 matches none, so that dispatcher writes nothing.
          current = await open(lease.term() ?? -1);
          current.start();
          set(current);
        } catch (err) {
          logError('the outbox dispatcher did not start after this process took the outbox lease', err);
        }
      } else if (!held && current) {
        const d = current;
        current = null;
        set(null);
        await d.close({ persist: !lost }).catch((err) => logError('closing the outbox dispatcher', err));
      }
    });
  };
  lease.onChange = follow;
  if (lease.held()) follow(true);
  return {
    async close() {
      closed = true;
      lease.onChange = undefined;
      // Still holding the lease: the last flush keeps what was delivered from being sent again.
      follow(false, false);
      await chain;
    },
  };
}
