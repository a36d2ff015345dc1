import { readAuthorization } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import { BENCH_CONFIG, benchHome, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/**
 * What authorising reads costs (docs/security.md): the same entity reads through Fastify inject()
 * with `auth.reads: "open"` and no credential, and with `"policy"` and a read token per request
 * (signed beforehand, as a client does; the server verifies the Ed25519 signature, checks the key
 * registry, the tenant and Cedar's memoised decision).
 */
export async function benchReads(count: number): Promise<void> {
  const bench = await benchHome(BENCH_CONFIG);
  try {
    const setup = await bench.open();
    const app = buildServer(setup);
    for (const body of signedProducts(bench.admin, bench.tenant, 100, 'read')) await app.inject({ method: 'POST', url: '/v1/commands', payload: body, headers: { 'content-type': 'application/json' } });
    await app.close();
    await setup.close();
    const paths = Array.from({ length: count }, (_, i) => `/v1/entities/${bench.tenant}/product/read-${i % 100}`);
    for (const mode of ['open', 'policy'] as const) {
      const writ = await bench.open({ auth: { reads: mode } } as never);
      const server = buildServer(writ);
      const reader = { ...bench.admin, tenant: bench.tenant };
      const requests = paths.map((url) => ({ url, headers: mode === 'open' ? {} : { authorization: readAuthorization(reader, 'GET', url) } }));
      let failed = 0;
      const { seconds, latencies } = await runConcurrent(requests, 16, async (r) => {
        const res = await server.inject({ method: 'GET', url: r.url, headers: r.headers });
        if (res.statusCode !== 200) failed++;
      });
      emit({ bench: 'reads', mode, credential: mode === 'open' ? 'none' : 'WritSig ed25519', reads: count, failed, reads_per_s: Math.round(count / seconds), p50_ms: round(percentile(latencies, 50), 3), p99_ms: round(percentile(latencies, 99), 3) });
      await server.close();
      await writ.close();
    }
  } finally {
    bench.dispose();
  }
}
