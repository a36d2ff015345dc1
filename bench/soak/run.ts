import { readAuthorization, type ReadSigner } from '../../src/sdk/sign.js';
import { rssMb, spawnBenchServer, type BenchServer } from '../bench-server.js';
import { LeanConnection } from '../lean-client.js';
import { round } from '../support.js';
import { createSoakHome } from './home.js';
import { junkKinds } from './junk.js';
import { Mix, prng, WEIGHTS } from './mix.js';
import type { CatalogAction } from './payloads.js';
import { readKinds } from './reads.js';
import { httpBytes, routesOf, type Target } from './requests.js';
import { Sender, type Outcome } from './send.js';
import { signedKinds } from './signed.js';
import { snapshot, stateChanges } from './state.js';

export interface SoakOptions {
  readonly requests: number;
  readonly concurrency: number;
  readonly seed: number;
  /** Progress lines go here every `progressMs` (stderr for the script; tests pass nothing). */
  readonly progress?: (line: string) => void;
  readonly progressMs?: number;
}

/** The soak's one line of output (docs/benchmarks.md, "Soak"). */
export interface SoakResult {
  readonly bench: 'soak';
  readonly requests: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly seconds: number;
  readonly rps: number;
  readonly by_status: Record<string, number>;
  readonly by_code: Record<string, number>;
  /** Per kind of attack, its answers by status: which kinds got through (2xx) and how the rest were refused. */
  readonly by_kind: Record<string, Record<string, number>>;
  readonly status_5xx: number;
  readonly state_changes: number;
  readonly ledger_bytes_added: number;
  readonly ledger_records_added: number;
  readonly ledger_bytes_per_refused_request: number;
  readonly rss_before_mb: number;
  readonly rss_after_mb: number;
  readonly durability: string;
}

/** Signed envelopes are signed again this often: their timestamps must stay inside the clock skew (300 s by default). */
const REFRESH_MS = 60_000;

class Tally {
  readonly byStatus: Record<string, number> = {};
  readonly byCode: Record<string, number> = {};
  readonly byKind: Record<string, Record<string, number>> = {};
  done = 0;
  fiveXx = 0;
  refused = 0;

  add(kind: string, o: Outcome): void {
    this.done++;
    this.byStatus[o.status] = (this.byStatus[o.status] ?? 0) + 1;
    if (o.code) this.byCode[o.code] = (this.byCode[o.code] ?? 0) + 1;
    const k = (this.byKind[kind] ??= {});
    k[o.status] = (k[o.status] ?? 0) + 1;
    const n = Number(o.status);
    if (n >= 500) this.fiveXx++;
    if (!(n >= 200 && n < 400)) this.refused++;
  }
}

/** A GET for the soak's own set-up, read as `reader` when given (reads need an identity). */
async function getJson(target: Target, hostname: string, port: number, path: string, reader?: ReadSigner): Promise<any> {
  const c = await LeanConnection.open(hostname, port);
  const headers: Record<string, string> = reader ? { Authorization: readAuthorization(reader, 'GET', path) } : {};
  try {
    return JSON.parse((await c.send(httpBytes(target, 'GET', path, undefined, headers))).body.toString('utf8'));
  } finally {
    c.close();
  }
}

/**
 * The hostile soak: a fresh home served by writ in its own process, `requests` generated hostile
 * requests (a seeded mix of kinds, see mix.ts) over `concurrency` keep-alive connections, and a
 * check, read from the store itself, that none of them changed state.
 */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const home = await createSoakHome();
  let server: BenchServer | undefined;
  const senders: Sender[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    server = await spawnBenchServer(home.home);
    const { hostname } = server.url;
    const port = Number(server.url.port);
    const target: Target = { host: `${hostname}:${port}` };
    const openapi = await getJson(target, hostname, port, '/openapi.json');
    const actions = (await getJson(target, hostname, port, '/v1/actions', { ...home.admin, tenant: home.tenant })).actions as CatalogAction[];
    const random = prng(o.seed);
    const pick = (n: number) => (random() * n) | 0;
    const kinds = { ...readKinds(home, target, routesOf(openapi), pick), ...signedKinds(home, target, actions), ...junkKinds(home, target) };
    // About two uses per pre-built request, within bounds that keep signing cheap.
    const mix = new Mix(kinds, random, (kind) => Math.min(4000, Math.max(16, Math.ceil((o.requests * WEIGHTS[kind]) / 2000))));
    const before = snapshot(home.dbPath);
    const rssBefore = rssMb(server.pid);
    const tally = new Tally();
    const start = Date.now();
    let sent = 0;
    timers.push(setInterval(() => mix.refresh(), REFRESH_MS));
    timers.push(
      setInterval(() => {
        const now = Date.now();
        for (const s of senders) s.watchdog(now);
        o.progress?.(`soak: ${tally.done}/${o.requests} requests, ${Math.round(tally.done / ((now - start) / 1000))} rps, 5xx ${tally.fiveXx}, server rss ${rssMb(server!.pid)} MB`);
      }, o.progressMs ?? 5000),
    );
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        const s = new Sender(hostname, port);
        senders.push(s);
        while (sent < o.requests) {
          sent++;
          const r = mix.next();
          const outcome = await s.send(r);
          tally.add(r.kind, outcome);
          // The first few 5xx answers are shown with their request line, to say where to look.
          if (outcome.detail !== undefined && tally.fiveXx <= 20) o.progress?.(`soak: ${outcome.status} for ${r.bytes.toString('latin1', 0, 200).split('\r\n')[0]}: ${outcome.detail}`);
        }
      }),
    );
    const seconds = (Date.now() - start) / 1000;
    for (const t of timers) clearInterval(t);
    const rssAfter = rssMb(server.pid);
    const after = snapshot(home.dbPath);
    const bytesAdded = after.ledgerBytes - before.ledgerBytes;
    return {
      bench: 'soak',
      requests: tally.done,
      concurrency: o.concurrency,
      seed: o.seed,
      seconds: round(seconds, 1),
      rps: Math.round(tally.done / seconds),
      by_status: tally.byStatus,
      by_code: tally.byCode,
      by_kind: tally.byKind,
      status_5xx: tally.fiveXx,
      state_changes: stateChanges(before, after),
      ledger_bytes_added: bytesAdded,
      ledger_records_added: after.records - before.records,
      ledger_bytes_per_refused_request: round(bytesAdded / Math.max(1, tally.refused), 1),
      rss_before_mb: rssBefore,
      rss_after_mb: rssAfter,
      durability: server.durability,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of senders) s.close();
    await server?.stop();
    home.dispose();
  }
}
