import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { benchHome, emit, runConcurrent, signedProducts } from './support.js';

/**
 * Which B-trees the WAL frames of group commits belong to: `node dist/bench/wal-pages.js [commands]`
 * submits signed UpsertProduct commands 64 at a time, then reads the WAL's frame headers (page
 * numbers; a commit frame carries the database size) and names each page through SQLite's dbstat.
 */
const count = Number(process.argv[2] ?? 600);
const h = await benchHome();
const writ = await h.open();
try {
  await runConcurrent(signedProducts(h.admin, h.tenant, 300, 'warm'), 64, async (body) => void (await writ.pipeline.submit({ body, receivedAt: Date.now() })));
  const path = writ.config.store.path;
  const walStart = readFileSync(`${path}-wal`).length;
  const batches0 = writ.applier.stats.batches;
  await runConcurrent(signedProducts(h.admin, h.tenant, count, 'w'), 64, async (body) => void (await writ.pipeline.submit({ body, receivedAt: Date.now() })));
  const batches = writ.applier.stats.batches - batches0;
  const wal = readFileSync(`${path}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const frame = 24 + pageSize;
  const owner = new Map<number, string>();
  const db = new Database(path, { readonly: true });
  for (const row of db.prepare('SELECT name, pageno FROM dbstat').iterate() as IterableIterator<{ name: string; pageno: number }>) owner.set(row.pageno, row.name);
  db.close();
  const byTree = new Map<string, number>();
  let frames = 0;
  let commits = 0;
  // Frames written during the run: from where the WAL ended before it (unless it was reset meanwhile).
  for (let o = walStart > wal.length ? 32 : Math.max(32, walStart); o + frame <= wal.length; o += frame) {
    const page = wal.readUInt32BE(o);
    if (wal.readUInt32BE(o + 4) !== 0) commits++;
    frames++;
    const name = owner.get(page) ?? (page === 1 ? 'header' : 'other');
    byTree.set(name, (byTree.get(name) ?? 0) + 1);
  }
  emit({ bench: 'wal_pages', commands: count, batches, commits_seen: commits, frames, pages_per_command: Math.round((frames / count) * 100) / 100, pages_per_commit: Math.round((frames / commits) * 10) / 10, by_tree: Object.fromEntries([...byTree].sort((a, b) => b[1] - a[1])) });
} finally {
  await writ.close();
  h.dispose();
}
