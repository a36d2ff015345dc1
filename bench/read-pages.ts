import { signEnvelope, readAuthorization } from '../src/sdk/sign.js';
import { buildServer } from '../src/transports/http/server.js';
import { BENCH_CONFIG, benchHome, emit, round } from './support.js';

/**
 * How long one read of a page of large ledger records holds the event loop: `count` records whose
 * stored envelopes are `bodyBytes` each, then `GET …/records?envelopes=true&limit=1000` under the
 * default page budget (limits.maxPageBytes) and under the largest one allowed (64 MiB, about what
 * an unbounded page cost). Prints the longest gap between ticks of a 1 ms timer during the read,
 * and how long a /healthz sent right after the read took to answer.
 * `node dist/bench/read-pages.js [count] [bodyBytes]`
 */
export async function benchReadPages(count: number, bodyBytes: number): Promise<void> {
  const home = await benchHome(BENCH_CONFIG);
  try {
    let writ = await home.open();
    const blob = 'b'.repeat(bodyBytes);
    for (let i = 0; i < count; i++) {
      const { envelope } = signEnvelope({ action: 'Bulk', payload: { blob, i } }, home.admin, { tenant: home.tenant });
      await writ.pipeline.submit({ body: Buffer.from(JSON.stringify(envelope)), receivedAt: Date.now() });
    }
    for (const maxPageBytes of [1024 * 1024, 64 * 1024 * 1024]) {
      await writ.close();
      writ = await home.open({ limits: { ...BENCH_CONFIG.limits, maxPageBytes } });
      const app = buildServer(writ);
      // Reads need an identity: each request carries a read token signed with the admin's key.
      const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: readAuthorization({ ...home.admin, tenant: home.tenant }, 'GET', url) } });
      await get(`/v1/ledger/${home.tenant}/writ/records?envelopes=true&limit=2`); // warm-up
      let gap = 0;
      let tick = process.hrtime.bigint();
      const timer = setInterval(() => {
        const now = process.hrtime.bigint();
        gap = Math.max(gap, Number(now - tick) / 1e6);
        tick = now;
      }, 1);
      const start = process.hrtime.bigint();
      const read = get(`/v1/ledger/${home.tenant}/writ/records?envelopes=true&limit=1000`);
      const health = get('/healthz').then(() => Number(process.hrtime.bigint() - start) / 1e6);
      const res = await read;
      const end = process.hrtime.bigint();
      gap = Math.max(gap, Number(end - tick) / 1e6);
      const ms = Number(end - start) / 1e6;
      const healthMs = await health;
      clearInterval(timer);
      if (res.statusCode !== 200) throw new Error(`read-pages: the records read answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      const body = JSON.parse(res.body) as { records: unknown[] };
      emit({ bench: 'read-pages', maxPageBytes, records_stored: count, body_bytes: bodyBytes, page_records: body.records.length, page_bytes: res.rawPayload.length, request_ms: round(ms), healthz_ms: round(healthMs), max_loop_gap_ms: round(gap), rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
      await app.close();
    }
    await writ.close();
  } finally {
    home.dispose();
  }
}

if (process.argv[1]?.endsWith('read-pages.js')) await benchReadPages(Number(process.argv[2] ?? 400), Number(process.argv[3] ?? 200_000));
