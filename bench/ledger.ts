import { nodeHasher } from '../src/ledger/node-hasher.js';
import { verifyDeployment } from '../src/ledger/verify/deployment.js';
import { buildLog, LOG_BATCH, type BenchLog } from './ledger-log.js';
import { benchProofs } from './ledger-proof.js';
import { rawSha256PerSecond } from './raw.js';
import { emit, round } from './support.js';

/**
 * The verifiable ledger at scale: one log of `records` records is built once through the real
 * store and Integrator (timed by windows: `append_flat`), then proofs are read from its tiles
 * (`proof`) and the whole deployment is re-verified (`verify`). `raw` holds the machine's limits
 * measured earlier in the same run.
 */
export async function benchLedger(records: number, raw: { batched_rows_per_s: number }): Promise<void> {
  const window = records >= 1_000_000 ? 100_000 : 10_000;
  const log = await buildLog(records, window);
  try {
    emitAppend(log, window, raw.batched_rows_per_s);
    const rawBefore = rawSha256PerSecond(200_000);
    const proofs = await benchProofs(log, records >= 1_000_000 ? 20_000 : 5_000, records >= 1_000_000 ? 2_000 : 1_000);
    const rawSha = (rawBefore + rawSha256PerSecond(200_000)) / 2;
    emit({
      bench: 'proof',
      leaves: log.size,
      ...proofs,
      target_p50_us: 100,
      // The p50s in units of one raw SHA-256 of 420 bytes on this machine, measured before and after.
      raw_sha256_per_s: Math.round(rawSha),
      p50_in_raw_sha256: { inclusion: round((proofs.inclusion_us_p50 * rawSha) / 1e6, 1), consistency: round((proofs.consistency_us_p50 * rawSha) / 1e6, 1) },
      build_s: round(log.seconds, 1),
      durability: log.store.durability,
    });
    await benchVerify(log);
  } finally {
    await log.dispose();
  }
}

function emitAppend(log: BenchLog, window: number, rawRows: number): void {
  const rates = log.windowRates;
  const first = rates[0];
  const last = rates[rates.length - 1];
  const cpu = log.windowCpu;
  const k = `${window / 1000}k`;
  emit({
    bench: 'append_flat',
    records: log.size,
    batch: LOG_BATCH,
    checkpoints: log.checkpoints,
    [`first_${k}_per_s`]: Math.round(first),
    [`last_${k}_per_s`]: Math.round(last),
    ratio: round(last / first, 3),
    target_ratio: 0.9,
    // The same comparison through a least-squares line over all windows, less at the mercy of one.
    trend_ratio: round(trendRatio(rates), 3),
    // CPU time per window barely depends on what else runs on the machine, wall time does.
    [`first_${k}_cpu_s`]: round(cpu[0], 2),
    [`last_${k}_cpu_s`]: round(cpu[cpu.length - 1], 2),
    cpu_ratio: round(cpu[0] / cpu[cpu.length - 1], 3),
    // The same windows split by phase: the Merkle append (integration: tiles and a signed checkpoint)
    // apart from SQLite's durable insert of the records, whose B-tree deepens as the table grows.
    integrate_ratio: round(log.windowIntegrate[0] / log.windowIntegrate[log.windowIntegrate.length - 1], 3),
    commit_ratio: round(log.windowCommit[0] / log.windowCommit[log.windowCommit.length - 1], 3),
    windows_integrate_s: log.windowIntegrate.map((c) => round(c, 2)),
    windows_commit_s: log.windowCommit.map((c) => round(c, 2)),
    records_per_s: Math.round(log.size / log.seconds),
    // Each record is a row of about 450 bytes, so the batched raw insert rate is the ceiling.
    raw_sqlite_batched_rows_per_s: Math.round(rawRows),
    vs_raw_rows: round(log.size / log.seconds / rawRows, 3),
    windows_per_s: rates.map(Math.round),
    windows_cpu_s: cpu.map((c) => round(c, 2)),
    durability: log.store.durability,
  });
}

/** Fitted last / fitted first value of a least-squares line through the points. */
function trendRatio(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 1;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, x) => {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  });
  const slope = sxy / sxx;
  return (my + slope * (n - 1 - mx)) / (my - slope * mx);
}

/**
 * `verifyDeployment` over the whole log (records re-hashed, parsed and chained, tiles rebuilt and
 * compared, every checkpoint signature checked), against the raw SHA-256 rate of one core measured
 * right before and right after (420-byte messages; a leaf here is about 450 bytes).
 */
async function benchVerify(log: BenchLog): Promise<void> {
  const rawBefore = rawSha256PerSecond(200_000);
  const t = process.hrtime.bigint();
  // (report.records counts through the progress callback, so one is passed.)
  const report = await verifyDeployment({ store: log.store, originPrefix: log.originPrefix, logKey: log.signer.verifierKey, hasher: nodeHasher, anchored: [], progress: () => undefined });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const raw = (rawBefore + rawSha256PerSecond(200_000)) / 2;
  if (!report.ok || report.records !== log.size) throw new Error(`verify failed on an untouched log: ${JSON.stringify(report.problems)} (${report.records} records)`);
  const rate = log.size / seconds;
  emit({
    bench: 'verify',
    records: log.size,
    checkpoints: report.logs[0].checkpoints,
    seconds: round(seconds, 2),
    records_per_s: Math.round(rate),
    raw_sha256_per_s: Math.round(raw),
    raw_sha256_bytes: 420,
    leaf_bytes: Math.round(log.leafBytes / log.size),
    ratio: round(rate / raw, 3),
    durability: log.store.durability,
  });
}
