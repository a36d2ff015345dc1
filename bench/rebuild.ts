import { loadConfig } from '../src/config/config.js';
import { rebuildState } from '../src/ledger/verify/rebuild.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { replaceEntityHistory } from '../src/store/sqlite/swap-entities.js';
import { WriterLock } from '../src/store/sqlite/writer-lock.js';
import { replayDeps } from '../src/transports/cli/verify-home.js';
import { benchHome, emit, round } from './support.js';

/**
 * `writ rebuild` on a home of `count` mixed commands: products created and updated (a quarter of
 * them), refused version conflicts, profile merges, entitlements granted and revoked. Measures
 * the rebuild itself (read the records, replay them, compare with the stored state), then the
 * swap (the whole entity state replaced in one transaction). `node dist/bench/rebuild.js [count]` runs it alone.
 */
export async function benchRebuild(count: number): Promise<void> {
  const b = await benchHome();
  try {
    const writ = await b.open();
    for (let i = 0; i < count; i++) {
      const kind = i % 8;
      const command =
        kind < 4 ? { action: 'UpsertProduct', payload: { sku: `p-${i % Math.max(1, Math.floor(count / 4))}`, name: `Product ${i}`, price: { amount: i, currency: 'EUR' } } }
        : kind === 4 ? { action: 'UpsertProduct', payload: { sku: 'p-0', name: 'conflict', price: { amount: 1, currency: 'EUR' } }, expectedVersion: 0 }
        : kind === 5 ? { action: 'UpsertProfile', payload: { actor: 'admin', displayName: `Admin ${i}`, locale: i % 16 === 5 ? null : 'en' } }
        : kind === 6 ? { action: i % 16 === 6 ? 'GrantEntitlement' : 'RevokeEntitlement', payload: { subject: 'admin', entitlement: 'beta' } }
        : { action: 'UpsertProduct', payload: { sku: `n-${i}`, name: `New ${i}`, price: { amount: i, currency: 'EUR' } } };
      const { envelope } = signEnvelope(command, b.admin, { tenant: b.tenant });
      // One at a time: the mix updates the same entities, and their versions follow the order.
      await writ.pipeline.submit({ body: Buffer.from(JSON.stringify(envelope)), receivedAt: Date.now() });
    }
    await writ.close();
    const config = loadConfig(b.home);
    const store = new SqliteStore({ path: config.store.path, readOnly: true });
    const t = process.hrtime.bigint();
    const result = await rebuildState({ store, originPrefix: config.ledger.originPrefix, ...(await replayDeps(config)) });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    await store.close();
    if (result.problems.length > 0) throw new Error(`rebuild differs on an untouched home: ${JSON.stringify(result.problems.slice(0, 5))}`);
    const lock = WriterLock.take(config.store.path, 'bench rebuild --swap');
    const s = process.hrtime.bigint();
    replaceEntityHistory(lock, config.store.path, result.rows);
    const swapSeconds = Number(process.hrtime.bigint() - s) / 1e9;
    lock.release();
    emit({ bench: 'rebuild', commands: count, records: result.records, versions: result.rows.length, differences: result.differences.length, seconds: round(seconds, 2), swap_seconds: round(swapSeconds, 2), records_per_s: Math.round(result.records / seconds) });
  } finally {
    b.dispose();
  }
}

if (process.argv[1]?.endsWith('rebuild.js')) await benchRebuild(Number(process.argv[2] ?? 10_000));
