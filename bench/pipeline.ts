import { STAGES } from '../src/pipeline/pipeline.js';
import { benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/**
 * In-process pipeline throughput: pre-signed Ed25519 UpsertProduct commands submitted with many in
 * flight, durable (SQLite WAL, synchronous=FULL, group commit), verification in worker threads.
 */
export async function benchPipeline(count: number, rawVerify: number, concurrency = 512, workers?: number): Promise<void> {
  const h = await benchHome();
  const writ = await h.open(workers === undefined ? {} : { verify: { workers } });
  try {
    const warm = signedProducts(h.admin, h.tenant, 500, 'warm');
    await runConcurrent(warm, 64, async (body) => void (await writ.pipeline.submit({ body, receivedAt: Date.now() })));
    const bodies = signedProducts(h.admin, h.tenant, count, 'p');
    let failures = 0;
    const before = { ...writ.applier.stats };
    const run = await runConcurrent(bodies, concurrency, async (body) => {
      const r = await writ.pipeline.submit({ body, receivedAt: Date.now() });
      if (r.httpStatus !== 200) failures++;
    });
    const cmds = count / run.seconds;
    const batches = writ.applier.stats.batches - before.batches;
    emit({
      bench: 'pipeline',
      durability: writ.store.durability,
      verify_workers: writ.config.verify.workers,
      commands: count,
      concurrency,
      cmds_per_s: Math.round(cmds),
      p50_ms: round(percentile(run.latencies, 50)),
      p99_ms: round(percentile(run.latencies, 99)),
      raw_verify_per_s: Math.round(rawVerify),
      ratio: round(cmds / rawVerify, 3),
      target_ratio: 0.6,
      avg_batch: round(count / Math.max(1, batches), 1),
      failures,
    });

    // Replays: the same envelopes again, answered from the stored outcomes.
    let notReplayed = 0;
    const replay = await runConcurrent(bodies, 64, async (body) => {
      const r = await writ.pipeline.submit({ body, receivedAt: Date.now() });
      if (!r.replayed) notReplayed++;
    });
    emit({ bench: 'replay', durability: writ.store.durability, replays: count, per_s: Math.round(count / replay.seconds), p99_ms: round(percentile(replay.latencies, 99), 3), target_per_s: 20000, not_replayed: notReplayed });
  } finally {
    await writ.close();
    h.dispose();
  }
}

/**
 * Per-stage cost: commands one at a time with verification inline, so each stage's wall time is its
 * own cost (apply includes one durable commit per command: at concurrency 1 nothing shares an fsync).
 */
export async function benchStages(count: number): Promise<void> {
  const h = await benchHome();
  const writ = await h.open({ verify: { workers: 0 } });
  try {
    const bodies = signedProducts(h.admin, h.tenant, count, 's');
    writ.pipeline.clock.enabled = true;
    for (const body of bodies) await writ.pipeline.submit({ body, receivedAt: Date.now() });
    const us = Object.fromEntries(STAGES.map((s) => [s, round(writ.pipeline.clock.ns[s] / count / 1000, 1)]));
    const slowest = STAGES.filter((s) => s !== 'apply').reduce((a, b) => (us[a] >= us[b] ? a : b));
    emit({ bench: 'stages', durability: writ.store.durability, commands: count, concurrency: 1, us_per_command: us, slowest_cpu_stage: slowest, note: 'apply includes one fsync per command at concurrency 1; under load many commands share one commit' });
  } finally {
    await writ.close();
    h.dispose();
  }
}
