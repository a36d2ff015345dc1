import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandExecutor } from '../src/config/ops.js';
import { execute } from '../src/packs/ops/effector/executor.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent } from './support.js';

const CONCURRENCY = 8;
/** The executor that does nothing: a real process spawned (no shell) that exits 0 at once. */
const NOOP: CommandExecutor = { kind: 'command', command: '/bin/true', args: [], cwd: null, env: {}, timeoutMs: 10_000 };

/**
 * The ops line: ops per second end to end (a signed SubmitOp through the pipeline, durable; the
 * outbox hands it to the effector, which records StartOpAttempt, runs the no-op executor and records
 * RecordOpResult, each signed with its key and durable) against the same executor invoked directly,
 * in the same run, with the same concurrency (the ratio is what writ's governance costs per op).
 * Effector lag: from the SubmitOp's commit to the StartOpAttempt's commit (entity history times).
 */
export async function benchOps(count: number): Promise<void> {
  const runOf = (i: number) => ({ op: `d-${i}`, tenant: 't', kind: 'restart', workspace: 'w', resource: 'r', parameters: {}, attempt: 1, idempotencyKey: `k-${i}`, rollbackOf: null });
  const direct = await runConcurrent(Array.from({ length: count }, (_, i) => i), CONCURRENCY, async (i) => {
    const ex = await execute(NOOP, runOf(i));
    if (!ex.ok) throw new Error(ex.error ?? 'the no-op executor failed');
  });
  const directPerS = count / direct.seconds;

  const b = await benchHome();
  let writ = await b.open();
  const pair = generateKeyPairSync('ed25519');
  const operator: Signer = { key: { alg: 'ed25519', key: pair.privateKey }, keyId: 'op#1' };
  const eff = generateKeyPairSync('ed25519');
  for (const [actor, keyId, pub, role] of [['op', 'op#1', pair.publicKey, 'operator'], ['effector', 'effector#1', eff.publicKey, 'effector']] as const) {
    await writ.pipeline.system(b.tenant, 'writ.RegisterKey', { actor, keyId, alg: 'ed25519', publicKey: pub.export({ type: 'spki', format: 'pem' }).toString() }, `reg-${actor}`);
    await writ.pipeline.system(b.tenant, 'AssignRole', { actor, role }, `role-${actor}`);
  }
  await writ.close();
  writeFileSync(join(b.home, 'keys', 'effector-1.key'), eff.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  writeFileSync(join(b.home, 'policies', 'ops.cedar'), 'permit (principal in Writ::Role::"operator", action == Writ::Action::"SubmitOp", resource);\n');
  writ = await b.open({ ...BENCH_CONFIG, ops: { effector: { enabled: true, concurrency: CONCURRENCY, scanIntervalMs: 1000 }, executors: { restart: { kind: 'command', command: NOOP.command, timeoutMs: NOOP.timeoutMs } } } });
  const sign = (i: number) => Buffer.from(JSON.stringify(signEnvelope({ action: 'SubmitOp', payload: { id: `op-${i}`, kind: 'restart', workspace: 'w', resource: `r${i % 16}`, parameters: {} } }, operator, { tenant: b.tenant }).envelope));
  const submit = async (body: Buffer) => {
    const r = await writ.pipeline.submit({ body, receivedAt: Date.now() });
    if (r.httpStatus !== 200) throw new Error(r.body);
  };
  const ended = async (id: string) => {
    for (;;) {
      const status = ((await writ.store.getEntity(b.tenant, 'op', id))?.doc as { status?: string } | undefined)?.status;
      if (status === 'succeeded' || status === 'failed') return;
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const t0 = process.hrtime.bigint();
  await runConcurrent(Array.from({ length: count }, (_, i) => sign(i)), CONCURRENCY * 4, submit);
  // The ops end in about the order they were submitted: wait for each in turn.
  for (let i = 0; i < count; i++) await ended(`op-${i}`);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Lag with nothing queued: one op at a time, each after the last ended.
  const idle = Math.min(100, count);
  for (let i = count; i < count + idle; i++) {
    await submit(sign(i));
    await ended(`op-${i}`);
  }
  const versions = new Map<string, number[]>();
  await writ.store.scanEntityHistory((row) => {
    if (row.type !== 'op') return;
    const v = versions.get(row.id) ?? [];
    v[row.version] = Date.parse(row.updatedAt);
    versions.set(row.id, v);
  });
  const lagOf = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => versions.get(`op-${from + k}`)!).map((v) => v[2] - v[1]).sort((x, y) => x - y);
  const lags = lagOf(0, count);
  const idleLags = lagOf(count, count + idle);
  const e2ePerS = count / seconds;
  await writ.close();
  b.dispose();
  emit({
    bench: 'ops',
    durability: 'sqlite wal synchronous=FULL; SubmitOp, StartOpAttempt and RecordOpResult each durable before the next step',
    executor: 'command /bin/true (spawned, no shell)',
    ops: count,
    concurrency: CONCURRENCY,
    ops_per_s_end_to_end: round(e2ePerS, 1),
    ops_per_s_direct: round(directPerS, 1),
    ratio_end_to_end_vs_direct: round(e2ePerS / directPerS, 3),
    // From the SubmitOp's commit to the StartOpAttempt's (ms, record times): under the load above
    // (ops queued behind the effector's concurrency), and one op at a time.
    effector_lag_ms_p50_loaded: percentile(lags, 50),
    effector_lag_ms_p99_loaded: percentile(lags, 99),
    effector_lag_ms_p50_idle: percentile(idleLags, 50),
    effector_lag_ms_p99_idle: percentile(idleLags, 99),
  });
}

if (process.argv[1]?.endsWith('/ops.js')) await benchOps(Number(process.argv[2] ?? 1000));
