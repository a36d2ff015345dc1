import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import type { ProgressOf } from './backup.js';
import { BackupError, hashFile, isInside as within, isMissingOrEmpty, MANIFEST, readManifest, walk, type BackupManifest, type ManifestFile } from './manifest.js';
import { discard, privateTree } from './private-tree.js';

export interface RestoreResult {
  readonly home: string;
  readonly files: number;
  readonly bytes: number;
  readonly manifest: BackupManifest;
}

/**
 * `writ restore`: checks every file of the backup against its manifest — none missing, none added,
 * each of the listed size and SHA-256 — and only then copies them into `homeArg`, which must not
 * exist or be empty (a restore never overwrites a home). Each copy is hashed again, so a backup
 * changed while it was being restored is caught too; on any failure what was written is removed.
 */
export async function restoreHome(backupArg: string, homeArg: string, progress: ProgressOf): Promise<RestoreResult> {
  const backup = resolve(backupArg);
  const home = resolve(homeArg);
  const manifest = readManifest(backup);
  if (!isMissingOrEmpty(home)) throw new BackupError(`${home} exists and is not an empty folder: restore only into a new or empty home (move the old one aside first)`, 'usage');
  if (within(backup, home) || within(home, backup)) throw new BackupError(`the home ${home} and the backup ${backup} overlap; restore into a folder outside the backup`, 'usage');
  await checkBackup(backup, manifest, progress('checking the backup'));
  checkConfig(backup, manifest);

  const existed = existsSync(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const copy = progress('restoring');
  const total = manifest.files.reduce((n, f) => n + f.bytes, 0);
  let done = 0;
  try {
    for (const f of manifest.folders) mkdirSync(join(home, f), { recursive: true, mode: 0o700 });
    for (const f of manifest.files) {
      const to = join(home, f.path);
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      copyFileSync(join(backup, f.path), to);
      await expectFile(to, f, 'while it was being restored');
      copy((done += f.bytes), total);
    }
  } catch (err) {
    discard(home, existed);
    throw err;
  }
  privateTree(home);
  return { home, files: manifest.files.length, bytes: total, manifest };
}

/** Every file present, listed and intact; nothing else in the folder. Names the first bad file. */
async function checkBackup(backup: string, manifest: BackupManifest, progress: (done: number, total: number) => void): Promise<void> {
  const present = walk(backup, (rel) => rel === MANIFEST);
  const damaged = (why: string) => new BackupError(`the backup ${backup} is damaged: ${why}; nothing was restored — use another copy`, 'damaged');
  if (present.other.length > 0) throw damaged(`${present.other[0]} is not a regular file`);
  const listed = new Set(manifest.files.map((f) => f.path));
  const extra = present.files.find((p) => !listed.has(p));
  if (extra) throw damaged(`${extra} is not listed in the manifest (added after the backup)`);
  const have = new Set(present.files);
  const missing = manifest.files.find((f) => !have.has(f.path));
  if (missing) throw damaged(`${missing.path} is listed in the manifest but missing`);
  const folders = new Set(present.folders);
  const gone = manifest.folders.find((f) => !folders.has(f));
  if (gone) throw damaged(`the folder ${gone} is listed in the manifest but missing`);
  const total = manifest.files.reduce((n, f) => n + f.bytes, 0);
  let done = 0;
  for (const f of manifest.files) {
    await expectFile(join(backup, f.path), f, 'after the backup');
    progress((done += f.bytes), total);
  }
}

/** Throws a `damaged` BackupError naming `f` when the file at `path` is not its size or hash. */
async function expectFile(path: string, f: ManifestFile, when: string): Promise<void> {
  const got = await hashFile(path);
  const why =
    got.bytes !== f.bytes ? `${f.path} is ${got.bytes} bytes but the manifest says ${f.bytes} (truncated or changed ${when})` : got.sha256 !== f.sha256 ? `${f.path} does not match its SHA-256 in the manifest (changed ${when})` : null;
  if (why) throw new BackupError(`the backup is damaged: ${why}; nothing was restored — use another copy`, 'damaged');
}

/** The backup's config must name a database and anchors inside the backup, so the restored home uses its own. */
function checkConfig(backup: string, manifest: BackupManifest): void {
  if (!manifest.files.some((f) => f.path === 'config.json')) throw new BackupError(`the backup ${backup} holds no config.json: it is not the backup of a writ home`, 'damaged');
  let config;
  try {
    config = loadConfig(backup);
  } catch (err) {
    throw new BackupError(`the backup's config.json does not load: ${(err as Error).message}`, 'damaged');
  }
  const paths = [config.store.path, config.anchors.ndjson, config.anchors.git?.path].filter((p): p is string => p !== null && p !== undefined);
  const outside = paths.find((p) => !within(backup, p));
  if (outside) throw new BackupError(`the backup's config.json names ${outside}, outside the backup: the restored home would use another home's files; nothing was restored`, 'usage');
}
