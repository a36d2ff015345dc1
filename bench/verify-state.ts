import { loadConfig } from '../src/config/config.js';
import { signEnvelope } from '../src/sdk/sign.js';
import { verifyHome } from '../src/transports/cli/verify-home.js';
import { benchHome, emit, round, runConcurrent } from './support.js';

/**
 * `writ verify` on a home of `count` real commands (UpsertProduct over count/4 products, so most
 * write a version above the first): the whole run (logs, tiles, checkpoints, then bodies, the
 * replay of the ledger into state, and the stored answers) in records per second.
 * `node dist/bench/verify-state.js [count]` runs it alone.
 */
export async function benchVerifyState(count: number): Promise<void> {
  const b = await benchHome();
  try {
    const writ = await b.open();
    const bodies: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const sku = `v-${i % Math.max(1, Math.floor(count / 4))}`;
      const { envelope } = signEnvelope({ action: 'UpsertProduct', payload: { sku, name: `Product ${i}`, price: { amount: i, currency: 'EUR' } } }, b.admin, { tenant: b.tenant });
      bodies.push(Buffer.from(JSON.stringify(envelope)));
    }
    // One command per product at a time: concurrent upserts of one product would race for its version (each is fine either way).
    await runConcurrent(bodies, 256, async (body) => void (await writ.pipeline.submit({ body, receivedAt: Date.now() })));
    await writ.close();
    const t = process.hrtime.bigint();
    const report = await verifyHome(loadConfig(b.home), { progress: false });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (!report.ok) throw new Error(`verify failed on an untouched home: ${JSON.stringify(report.problems.slice(0, 5))}`);
    emit({
      bench: 'verify-state',
      records: report.records,
      versions_replayed: report.state?.versions.replayed,
      answers: report.state?.answers.checked,
      seconds: round(seconds, 2),
      records_per_s: Math.round(report.records / seconds),
    });
  } finally {
    b.dispose();
  }
}

if (process.argv[1]?.endsWith('verify-state.js')) await benchVerifyState(Number(process.argv[2] ?? 50_000));
