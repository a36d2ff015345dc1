import { cpus } from 'node:os';
import { benchHttp } from './http.js';
import { benchLedger } from './ledger.js';
import { benchNatsIntake } from './nats.js';
import { benchPipeline, benchStages } from './pipeline.js';
import { rawSha256PerSecond, rawSqlite, rawVerifyPerSecond } from './raw.js';
import { emit } from './support.js';

/**
 * `npm run bench` (add `-- --quick` for a run under 60 s). Prints JSON lines; every figure that
 * depends on the machine is set beside the machine's raw limit measured in the same run.
 */
const quick = process.argv.includes('--quick');
const scale = quick ? 1 : 4;

emit({ bench: 'machine', node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, quick });
const rawVerify = rawVerifyPerSecond(4000 * scale);
const sqlite = rawSqlite(quick ? 300 : 1000);
emit({ bench: 'raw', durability: 'sqlite wal synchronous=FULL', raw_verify_per_s: Math.round(rawVerify), raw_sha256_per_s: Math.round(rawSha256PerSecond(50000 * scale)), raw_sqlite_commits_per_s: Math.round(sqlite.commits_per_s), raw_sqlite_batched_rows_per_s: Math.round(sqlite.batched_rows_per_s) });
await benchStages(quick ? 300 : 1000);
// HTTP before the pipeline runs: those leave a hundred megabytes of writes for the disk to flush,
// which would slow this benchmark's commits (the pipeline benchmark is bound by CPU, not fsync).
await benchHttp(quick ? 4000 : 20000, 64);
// Back-pressure: the sustainable HTTP load found by steps, then it and four times it, open loop.
await (await import('./backpressure.js')).benchBackpressure({ loadSeconds: quick ? 2 : 5, stepSeconds: quick ? 1 : 2, nice: 0 });
await benchNatsIntake(quick ? 2000 : 10000, 64);
await benchPipeline(quick ? 6000 : 12000, () => rawVerifyPerSecond(quick ? 2000 : 4000), quick ? 1 : 3);
// Last: the ledger benchmark writes a database of hundreds of megabytes (a million records in full).
await benchLedger(quick ? 100_000 : 1_000_000, sqlite);
await (await import('./policy.js')).benchPolicy(quick ? 20_000 : 100_000);
await (await import('./outbox.js')).benchOutboxNats(quick ? 3000 : 20_000);
await (await import('./reads.js')).benchReads(quick ? 5000 : 20_000);
await (await import('./read-pages.js')).benchReadPages(quick ? 100 : 400, 200_000);
// writ verify with every check (logs, bodies, the replay into state, answers) on a home of real commands.
await (await import('./verify-state.js')).benchVerifyState(quick ? 10_000 : 50_000);
// MCP: submit tool calls over stdio (writ mcp) against the same over HTTP /mcp.
await (await import('./mcp.js')).benchMcp(quick ? 1000 : 4000);
// writ rebuild (replay into fresh state, compare, swap) after mixed commands.
await (await import('./rebuild.js')).benchRebuild(10_000);
// The web console in headless Chromium: first renders (1,000 pending; a large log) and in-page receipt checks.
await (await import('./console.js')).benchConsole(quick ? 20_000 : 100_000);
// The knowledge pack: KipCommit against raw git plumbing, and search over a canon of 10,000 entries.
await (await import('./knowledge.js')).benchKnowledge(10_000, quick ? 500 : 2000);
// The ops pack: ops end to end through the effector and a no-op executor, against that executor run directly.
await (await import('./ops.js')).benchOps(quick ? 300 : 1000);
// PostgreSQL: 1 and 3 writ processes on one database over HTTP, against the SQLite server (skipped without a server).
await (await import('./pg.js')).benchPg(quick ? 2000 : 10_000, 64);
