import type { LogStore } from '../store/port.js';
import { originOf } from './record.js';

/** JobContext.leaf: record `index` of log (tenant, scroll) as a signed checkpoint names it, or null. */
export function leafOf(store: Pick<LogStore, 'readLeafHashes'>, originPrefix: string) {
  return async (tenant: string, scroll: string, index: number): Promise<{ origin: string; leafHash: string } | null> => {
    const [leafHash] = await store.readLeafHashes(tenant, scroll, index, index + 1);
    return leafHash ? { origin: originOf(originPrefix, tenant, scroll), leafHash } : null;
  };
}
