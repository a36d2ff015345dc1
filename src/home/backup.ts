import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { mirrorRepository } from '../ledger/anchors/git-cli.js';
import { completeLength } from '../ledger/anchors/ndjson-file.js';
import { originOf } from '../ledger/record.js';
import { snapshotDatabase } from '../store/sqlite/snapshot.js';
import type { LogStore, StoreLifecycle } from '../store/port.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { packageRoot } from '../util/package-root.js';
import { BackupError, hashFile, isInside as inside, isMissingOrEmpty, MANIFEST, MANIFEST_FORMAT, walk, type BackupManifest, type ManifestLog } from './manifest.js';
import { discard, privateTree } from './private-tree.js';

/** Draws progress of one labelled step (bytes done of total). */
export type ProgressOf = (label: string) => (done: number, total: number) => void;

export interface BackupOptions {
  readonly progress: ProgressOf;
  /** Told about what was left out (symbolic links, sockets), so the operator can copy it by hand. */
  readonly warn: (message: string) => void;
}

/** Files SQLite keeps beside the database; the snapshot replaces them all. */
const DATABASE_SUFFIXES = ['', '-wal', '-shm', '-journal'];
/** Writer locks and their holders' descriptions (of the store, of a witness state): they describe a running process, not truth. */
const LOCK_SUFFIXES = ['-lock', '-lock.json', '-lock.json.tmp'];

/**
 * `writ backup`: an online, consistent copy of a home into `dest` while its server runs, without
 * its writer lock. The anchors are copied first and the database last, so the copy's anchors never
 * name a checkpoint its database lacks (an anchor is written only after its checkpoint is
 * committed) and `writ verify` passes on a restored copy. The NDJSON anchor is copied up to its
 * last complete line, the git anchor as a mirror clone, the database as one SQLite snapshot; every
 * other file of the home (config, keys, policies, packs, witness state) as it is. Files are 0600 and
 * folders 0700: the copy holds the log key. `manifest.json` lists each file's size and SHA-256.
 */
export async function backupHome(config: Config, destArg: string, opts: BackupOptions): Promise<BackupManifest> {
  const home = config.home;
  const dest = resolve(destArg);
  if (!isMissingOrEmpty(dest)) throw new BackupError(`${dest} exists and is not an empty folder; give a new or empty folder for the backup`, 'usage');
  if (inside(home, dest)) throw new BackupError(`${dest} is inside the home ${home}; put the backup outside it (ideally on another disk)`, 'usage');
  const db = homePath(home, config.store.path, 'store.path');
  const ndjson = config.anchors.ndjson ? homePath(home, config.anchors.ndjson, 'anchors.ndjson') : null;
  const git = config.anchors.git ? homePath(home, config.anchors.git.path, 'anchors.git.path') : null;
  // The knowledge repositories (docs/knowledge.md): copied after the database, see copyHome.
  const knowledge = inside(home, config.knowledge.git) ? relative(home, config.knowledge.git).split('\\').join('/') : null;
  if (!existsSync(join(home, db))) throw new BackupError(`no database at ${config.store.path}; nothing to back up`, 'usage');

  for (const path of namedFiles(config)) if (!inside(home, path)) opts.warn(`${path} (named in config.json) is outside the home and is not in the backup: copy it yourself`);
  const existed = existsSync(dest);
  mkdirSync(dest, { recursive: true, mode: 0o700 });
  try {
    const logs = await copyHome(home, dest, { db, ndjson, git, knowledge, originPrefix: config.ledger.originPrefix }, opts);
    return await writeManifest(home, dest, logs, opts.progress('hashing the copy'));
  } catch (err) {
    discard(dest, existed);
    throw err;
  }
}

interface TruthPaths {
  readonly db: string;
  readonly ndjson: string | null;
  readonly git: string | null;
  readonly knowledge: string | null;
  readonly originPrefix: string;
}

/** The copies, anchors first and the database last; returns the logs of the copied database. */
async function copyHome(home: string, dest: string, p: TruthPaths, opts: BackupOptions): Promise<ManifestLog[]> {
  const { db, ndjson, git } = p;
  if (ndjson && existsSync(join(home, ndjson))) await copyCompleteLines(join(home, ndjson), place(dest, ndjson));
  if (git && existsSync(join(home, git))) await mirrorRepository(join(home, git), place(dest, git));
  const skip = new Set([...DATABASE_SUFFIXES.map((s) => db + s), ...(ndjson ? [ndjson] : []), ...(git ? [git] : [])]);
  const underKnowledge = (rel: string) => p.knowledge !== null && (rel === p.knowledge || rel.startsWith(`${p.knowledge}/`));
  copyFiles(home, dest, walk(home, (rel) => skip.has(rel) || underKnowledge(rel) || LOCK_SUFFIXES.some((s) => rel.endsWith(s))), opts);
  await snapshotDatabase(join(home, db), place(dest, db), opts.progress('copying the database'));
  // Knowledge objects are written before the ledger transaction that names them and never change:
  // copied after the database, the copy holds every object the copied ledger names. Refs may be
  // behind it; a restored writ moves them to the ledger's state at start-up.
  if (p.knowledge && existsSync(join(home, p.knowledge))) copyFiles(home, dest, walk(home, (rel) => !underKnowledge(rel) && !p.knowledge!.startsWith(`${rel}/`)), opts);
  return logsOf(join(dest, db), p.originPrefix);
}

function copyFiles(home: string, dest: string, rest: ReturnType<typeof walk>, opts: BackupOptions): void {
  for (const rel of rest.other) opts.warn(`${join(home, rel)} is not a regular file (a symbolic link, socket or device) and was not copied`);
  for (const rel of rest.folders) mkdirSync(join(dest, rel), { recursive: true, mode: 0o700 });
  for (const rel of rest.files) {
    try {
      copyFileSync(join(home, rel), place(dest, rel));
    } catch (err) {
      // A temporary file renamed away since the folder was listed (a state file being replaced, a ref being moved).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Makes the copy private, hashes every file and writes `manifest.json`. */
async function writeManifest(home: string, dest: string, logs: ManifestLog[], hash: (done: number, total: number) => void): Promise<BackupManifest> {
  privateTree(dest);
  const { folders, files } = walk(dest);
  const total = files.reduce((n, path) => n + statSync(join(dest, path)).size, 0);
  const entries = [];
  let done = 0;
  for (const path of files) {
    const entry = { path, ...(await hashFile(join(dest, path))) };
    entries.push(entry);
    hash((done += entry.bytes), total);
  }
  const manifest: BackupManifest = { format: MANIFEST_FORMAT, writ: writVersion(), createdAt: new Date().toISOString(), home, logs, folders, files: entries };
  writeFileSync(join(dest, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/** Files and folders other than the database and anchors that the config names: keys, secrets, policies, packs. */
function namedFiles(config: Config): string[] {
  const webhooks = config.outbox.sinks.flatMap((s) => (s.kind === 'webhook' ? [s.secretFile] : []));
  const jwt = [...(config.auth.jwt.hs256SecretFile ? [config.auth.jwt.hs256SecretFile] : []), ...config.auth.jwt.publicKeyFiles];
  const candidates = [config.ledger.logKeyFile, config.approvals.totpSecretFile, config.witness.keyFile, config.witness.statePath, config.policiesDir, config.packsDir, ...config.auth.hmacKeys.map((k) => k.secretFile), ...jwt, ...webhooks];
  return candidates.filter((p) => existsSync(p));
}

/** `path` relative to the home, refusing one outside it: a restored home must hold every file it names. */
function homePath(home: string, path: string, key: string): string {
  if (!inside(home, path)) throw new BackupError(`${key} (${path}) is outside the home ${home}: writ backup copies a home whose database and anchors live inside it; move them into the home (and change config.json), or copy them yourself`, 'usage');
  return relative(home, path).split('\\').join('/');
}

/** The destination of `rel` in `dest`, its folders created 0700. */
function place(dest: string, rel: string): string {
  const to = join(dest, rel);
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  return to;
}

/** Copies the complete lines of an append-only file (never a line being written). */
async function copyCompleteLines(from: string, to: string): Promise<void> {
  const file = await open(from, 'r');
  try {
    const length = await completeLength(file, (await file.stat()).size);
    const out = await open(to, 'wx', 0o600);
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let at = 0; at < length; ) {
        const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, length - at), at);
        if (bytesRead === 0) break;
        await out.write(chunk, 0, bytesRead);
        at += bytesRead;
      }
    } finally {
      await out.close();
    }
  } finally {
    await file.close();
  }
}

/** Each log of the copied database: its record count and latest checkpoint. */
async function logsOf(path: string, originPrefix: string): Promise<ManifestLog[]> {
  const store: LogStore & Pick<StoreLifecycle, 'close'> = new SqliteStore({ path, readOnly: true, command: 'writ backup' });
  try {
    const latest = new Map((await store.latestCheckpoints()).map((c) => [`${c.tenant}/${c.scroll}`, c]));
    return (await store.logHeads()).map((h) => {
      const c = latest.get(`${h.tenant}/${h.scroll}`);
      return { origin: originOf(originPrefix, h.tenant, h.scroll), records: h.size, checkpoint: c ? { size: c.size, root: c.root, note: c.note } : null };
    });
  } finally {
    await store.close();
  }
}

function writVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
