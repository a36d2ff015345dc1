import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadPrivateKey } from '../src/core/signature.js';
import { ADMIN_KEY_ID, initHome } from '../src/home/init.js';
import type { Signer } from '../src/sdk/sign.js';
import { spawnBenchServer, type BenchServer } from './bench-server.js';
import { LeanConnection } from './lean-client.js';
import { BENCH_CONFIG, emit, percentile, round, runConcurrent, signedProducts } from './support.js';

/**
 * writ on PostgreSQL over loopback HTTP: 1 and 3 `writ` processes on one database (each a server
 * process of its own, bench/http-server.ts), against the SQLite server measured in the same run.
 * Clients spread their keep-alive connections over the processes. Durability is the same on both
 * sides: SQLite synchronous=FULL; PostgreSQL synchronous_commit=on and fsync=on (the `durability`
 * field says what the server reported). The database server is WRIT_BENCH_PG_URL (or
 * WRIT_TEST_PG_URL): on the same two cores as writ and the clients here, unless pointed elsewhere.
 */
export async function benchPg(count: number, clients: number): Promise<void> {
  const server = process.env.WRIT_BENCH_PG_URL ?? process.env.WRIT_TEST_PG_URL;
  if (!server) {
    emit({ bench: 'pg', skipped: 'no PostgreSQL server: set WRIT_BENCH_PG_URL (or start one with `eval "$(.ci/pg-cluster start)"`)' });
    return;
  }
  const sqlite = await run(await homes(null, 1), count, clients);
  emit({ bench: 'pg', backend: 'sqlite', processes: 1, ...sqlite.figures });
  const results: Record<number, Figures> = {};
  for (const processes of [1, 3]) {
    const database = await createDatabase(server);
    try {
      const r = await run(await homes(database, processes), count, clients);
      results[processes] = r.figures;
      emit({ bench: 'pg', backend: 'postgres', processes, ...r.figures, ratio_to_sqlite: round(r.figures.cmds_per_s / sqlite.figures.cmds_per_s) });
    } finally {
      await dropDatabase(server, database);
    }
  }
  emit({ bench: 'pg', summary: true, ratio_3_to_1: round(results[3]!.cmds_per_s / results[1]!.cmds_per_s), ratio_1_to_sqlite: round(results[1]!.cmds_per_s / sqlite.figures.cmds_per_s), ratio_3_to_sqlite: round(results[3]!.cmds_per_s / sqlite.figures.cmds_per_s) });
}

interface Figures {
  durability: string;
  commands: number;
  clients: number;
  cmds_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

interface Homes {
  readonly homes: string[];
  readonly admin: Signer;
  readonly tenant: string;
}

/** A home (on `database`, or SQLite when null) and copies of its config and keys for more processes. */
async function homes(database: string | null, processes: number): Promise<Homes> {
  const first = mkdtempSync(join(tmpdir(), 'writ-bench-pg-'));
  const init = await initHome(first, { port: 0, ...(database ? { store: database } : {}) });
  const file = join(first, 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...BENCH_CONFIG }, null, 2));
  const all = [first];
  for (let i = 1; i < processes; i++) {
    const home = mkdtempSync(join(tmpdir(), 'writ-bench-pg-'));
    for (const part of ['config.json', 'keys', 'policies']) cpSync(join(first, part), join(home, part), { recursive: true });
    all.push(home);
  }
  return { homes: all, admin: { key: loadPrivateKey(readFileSync(init.keyFile, 'utf8')), keyId: ADMIN_KEY_ID }, tenant: init.tenant };
}

async function run(h: Homes, count: number, clients: number): Promise<{ figures: Figures }> {
  const servers: BenchServer[] = [];
  try {
    for (const home of h.homes) servers.push(await spawnBenchServer(home));
    // Connection i goes to process i mod N: the load is spread evenly, as a round-robin balancer would.
    const connections = await Promise.all(Array.from({ length: clients }, (_, i) => servers[i % servers.length]!).map((s) => LeanConnection.open(s.url.hostname, Number(s.url.port))));
    const free = connections.map((c, i) => ({ c, host: `${servers[i % servers.length]!.url.host}` }));
    const post = async (body: Buffer): Promise<number> => {
      const slot = free.pop()!;
      try {
        return await slot.c.post('/v1/commands', slot.host, body);
      } finally {
        free.push(slot);
      }
    };
    await runConcurrent(signedProducts(h.admin, h.tenant, 500, 'warm'), clients, async (b) => void (await post(b)));
    let errors = 0;
    const timed = await runConcurrent(signedProducts(h.admin, h.tenant, count, 'pg'), clients, async (b) => {
      if ((await post(b)) !== 200) errors++;
    });
    for (const c of connections) c.close();
    return {
      figures: {
        durability: servers[0]!.durability,
        commands: count,
        clients,
        cmds_per_s: Math.round(count / timed.seconds),
        p50_ms: round(percentile(timed.latencies, 50)),
        p99_ms: round(percentile(timed.latencies, 99)),
        errors,
      },
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const home of h.homes) rmSync(home, { recursive: true, force: true });
  }
}

async function admin<T>(server: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new database on the server for one measurement; returns its URL. */
async function createDatabase(server: string): Promise<string> {
  const name = `writ_bench_${randomBytes(6).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(server: string, url: string): Promise<void> {
  await admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`));
}

// `node dist/bench/pg.js [count] [clients]` runs this benchmark alone.
if (process.argv[1]?.endsWith('/pg.js')) await benchPg(Number(process.argv[2] ?? 4000), Number(process.argv[3] ?? 64));
