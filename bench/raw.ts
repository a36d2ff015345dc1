import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openRawSqlite } from './raw-sqlite.js';

/** The machine's raw Ed25519 verifications per second on one core (this thread). */
export function rawVerifyPerSecond(count: number): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const data = Buffer.alloc(420, 7);
  const sig = sign(null, data, privateKey);
  for (let i = 0; i < 200; i++) verify(null, data, publicKey, sig);
  const t = process.hrtime.bigint();
  for (let i = 0; i < count; i++) if (!verify(null, data, publicKey, sig)) throw new Error('verify failed');
  return count / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Raw SHA-256 of 420-byte messages per second on one core. */
export function rawSha256PerSecond(count: number): number {
  const data = Buffer.alloc(420, 7);
  const t = process.hrtime.bigint();
  for (let i = 0; i < count; i++) createHash('sha256').update(data).digest();
  return count / (Number(process.hrtime.bigint() - t) / 1e9);
}

/**
 * Raw durable SQLite inserts: WAL, synchronous=FULL, one row per committed transaction (so each is
 * an fsync), and the same rows batched 256 per transaction, on the same disk as the benchmarks.
 */
export function rawSqlite(count: number): { commits_per_s: number; batched_rows_per_s: number } {
  const dir = mkdtempSync(join(tmpdir(), 'writ-raw-'));
  try {
    const db = openRawSqlite(join(dir, 'raw.db'));
    const row = Buffer.alloc(400, 1);
    let t = process.hrtime.bigint();
    for (let i = 0; i < count; i++) db.insertOne(i, row);
    const commits = count / (Number(process.hrtime.bigint() - t) / 1e9);
    const rows = count * 20;
    t = process.hrtime.bigint();
    for (let i = 0; i < rows; i += 256) db.insertMany(count + i, Math.min(256, rows - i), row);
    const batched = rows / (Number(process.hrtime.bigint() - t) / 1e9);
    db.close();
    return { commits_per_s: commits, batched_rows_per_s: batched };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
