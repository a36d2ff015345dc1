import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZERO_HASH } from '../src/core/hash.js';
import { Integrator } from '../src/ledger/integrator.js';
import { nodeHasher } from '../src/ledger/node-hasher.js';
import { NoteSigner } from '../src/ledger/note-signer.js';
import { encodeRecord, type LedgerRecord } from '../src/ledger/record.js';
import type { CheckpointRow, WriteBatch } from '../src/store/port.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

/** Records per durable commit, each followed by one integration step (tiles + signed checkpoint). */
export const LOG_BATCH = 1000;

/** A log of synthetic records in a real SqliteStore, integrated into tiles by the real Integrator. */
export interface BenchLog {
  readonly store: SqliteStore;
  readonly signer: NoteSigner;
  readonly originPrefix: string;
  readonly tenant: string;
  readonly scroll: string;
  readonly size: number;
  /** Every leaf hash, 32 bytes each, kept aside to check proofs against. */
  readonly leafHashes: Buffer;
  /** Total bytes of the leaves (the RFC 8785 records). */
  readonly leafBytes: number;
  readonly checkpoint: CheckpointRow;
  /** Seconds the whole build took, and records per second in each window of `window` records. */
  readonly seconds: number;
  readonly windowRates: number[];
  /** CPU seconds of the process (all threads, the SQLite writer's too) in each window. */
  readonly windowCpu: number[];
  /** Wall seconds per window spent in the durable commit of the records, and in integration (tiles + checkpoint). */
  readonly windowCommit: number[];
  readonly windowIntegrate: number[];
  readonly checkpoints: number;
  dispose(): Promise<void>;
}

/**
 * Appends `records` well-formed, hash-chained records (built with encodeRecord, as the applier
 * builds them) to one log: LOG_BATCH records per durable `store.commit`, then the Integrator folds
 * them into tiles and signs a checkpoint (`checkpointNow`, one more durable transaction), exactly
 * the code path of a running writ minus the commands. The rate is taken per window of records.
 */
export async function buildLog(records: number, window: number): Promise<BenchLog> {
  const dir = mkdtempSync(join(tmpdir(), 'writ-ledger-bench-'));
  const store = new SqliteStore({ path: join(dir, 'writ.db') });
  const originPrefix = 'bench.writ.example';
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = new NoteSigner(originPrefix, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const tenant = 'acme';
  const scroll = 'commerce';
  const dispose = async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const integrator = await Integrator.open(
      { store, signer, hasher: nodeHasher, originPrefix, intervalMs: 1000, anchors: [], cosigners: [], witnessQuorum: 0, now: Date.now },
      [{ tenant, scroll, size: 0 }],
    );
    const leafHashes = Buffer.alloc(records * 32);
    let leafBytes = 0;
    let prev = ZERO_HASH;
    let checkpoint: CheckpointRow | null = null;
    let checkpoints = 0;
    const windowRates: number[] = [];
    const windowCpu: number[] = [];
    const windowCommit: number[] = [];
    const windowIntegrate: number[] = [];
    let commitNs = 0n;
    let integrateNs = 0n;
    const start = process.hrtime.bigint();
    let windowStart = start;
    let cpuStart = process.cpuUsage();
    for (let size = 0; size < records; ) {
      const n = Math.min(LOG_BATCH, records - size);
      const rows: Array<WriteBatch['records'][number]> = [];
      const random = randomBytes(64 * n).toString('hex');
      for (let k = 0; k < n; k++, size++) {
        const record = syntheticRecord(tenant, scroll, size, prev, random.slice(128 * k, 128 * k + 64), random.slice(128 * k + 64, 128 * k + 128));
        const { leaf, leafHash } = encodeRecord(record);
        rows.push({
          row: { tenant, scroll, index: size, leaf, leafHash, requestId: record.requestId, actor: record.actor, commandHash: record.commandHash, outcome: record.outcome, code: record.code },
          envelope: null,
        });
        leafHashes.write(leafHash, size * 32, 'hex');
        leafBytes += leaf.length;
        prev = leafHash;
      }
      const t0 = process.hrtime.bigint();
      await store.commit({ entities: [], records: rows, outbox: [], outcomes: [], nonces: [] });
      const t1 = process.hrtime.bigint();
      integrator.noteDurable(tenant, scroll, size);
      checkpoint = await integrator.checkpointNow(tenant, scroll);
      commitNs += t1 - t0;
      integrateNs += process.hrtime.bigint() - t1;
      if (checkpoint?.size !== size) throw new Error(`the checkpoint covers ${checkpoint?.size} records, not ${size}`);
      checkpoints++;
      if (size % window === 0) {
        const now = process.hrtime.bigint();
        windowRates.push(window / (Number(now - windowStart) / 1e9));
        windowStart = now;
        const cpu = process.cpuUsage(cpuStart);
        windowCpu.push((cpu.user + cpu.system) / 1e6);
        cpuStart = process.cpuUsage();
        windowCommit.push(Number(commitNs) / 1e9);
        windowIntegrate.push(Number(integrateNs) / 1e9);
        commitNs = 0n;
        integrateNs = 0n;
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await integrator.close();
    if (!checkpoint) throw new Error('no records, no checkpoint');
    return { store, signer, originPrefix, tenant, scroll, size: records, leafHashes, leafBytes, checkpoint, seconds, windowRates, windowCpu, windowCommit, windowIntegrate, checkpoints, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

const BASE_MS = Date.parse('2026-11-22T00:00:00.000Z');

/** A record as the applier writes one for an accepted UpsertProduct (about 450 bytes of JSON). */
function syntheticRecord(tenant: string, scroll: string, index: number, prev: string, commandHash: string, resultHash: string): LedgerRecord {
  const hex = index.toString(16).padStart(12, '0');
  return {
    v: 1,
    index,
    ts: new Date(BASE_MS + index * 7).toISOString(),
    tenant,
    scroll,
    actor: 'admin',
    action: 'UpsertProduct',
    requestId: `019a${hex.slice(0, 4)}-${hex.slice(4, 8)}-7${hex.slice(8, 11)}-8${commandHash.slice(0, 3)}-${commandHash.slice(3, 15)}`,
    commandHash,
    outcome: 'OK',
    code: null,
    target: `product/sku-${index}`,
    version: 1,
    resultHash,
    prev,
  };
}
