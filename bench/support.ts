import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../src/config/config.js';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import { signEnvelope, type Signer } from '../src/sdk/sign.js';
import { openWrit, type Writ } from '../src/writ.js';
import { writeFileSync } from 'node:fs';

/** Benchmarks print one JSON object per line. */
export function emit(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Settings every benchmark home uses: rate limits out of the way, durability untouched (FULL). */
export const BENCH_CONFIG: ConfigInput = { limits: { rate: 100_000_000, windowSeconds: 60, maxBuckets: 100_000 } };

export interface BenchHome {
  readonly home: string;
  readonly admin: Signer;
  readonly tenant: string;
  open(overrides?: ConfigInput): Promise<Writ>;
  dispose(): void;
}

export async function benchHome(config: ConfigInput = BENCH_CONFIG): Promise<BenchHome> {
  const home = mkdtempSync(join(tmpdir(), 'writ-bench-'));
  const init = await initHome(home, { port: 0 });
  const file = join(home, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }, null, 2));
  const admin: Signer = { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID };
  return {
    home,
    admin,
    tenant: init.tenant,
    open: (overrides = {}) => openWrit(loadConfig(home, overrides)),
    dispose: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Pre-signed UpsertProduct envelopes as request bodies, each for its own product. */
export function signedProducts(admin: Signer, tenant: string, count: number, tag: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const { envelope } = signEnvelope({ action: 'UpsertProduct', payload: { sku: `${tag}-${i}`, name: `Product ${i}`, price: { amount: 100 + i, currency: 'EUR' } } }, admin, { tenant });
    out.push(Buffer.from(JSON.stringify(envelope)));
  }
  return out;
}

/** Runs `task` over `items` with at most `concurrency` in flight; returns per-item latencies (ms). */
export async function runConcurrent<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = new Array(items.length);
  let next = 0;
  const start = process.hrtime.bigint();
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const t = process.hrtime.bigint();
      await task(items[i]);
      latencies[i] = Number(process.hrtime.bigint() - t) / 1e6;
    }
  });
  await Promise.all(workers);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return { seconds, latencies };
}
