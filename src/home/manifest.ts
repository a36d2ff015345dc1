import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The manifest's file name inside a backup folder. */
export const MANIFEST = 'manifest.json';
export const MANIFEST_FORMAT = 'writ-backup/1';
/** Largest manifest read back (a million files fit several times over). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const MAX_PATH = 4096;

export interface ManifestFile {
  /** Relative to the backup folder (and to the home it restores), with forward slashes. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A log as it was in the copied database: its record count and latest signed checkpoint. */
export interface ManifestLog {
  readonly origin: string;
  readonly records: number;
  readonly checkpoint: { readonly size: number; readonly root: string; readonly note: string } | null;
}

export interface BackupManifest {
  readonly format: typeof MANIFEST_FORMAT;
  /** The writ version that made the backup. */
  readonly writ: string;
  readonly createdAt: string;
  /** The home that was copied (for the operator's eyes; restore never writes there). */
  readonly home: string;
  readonly logs: readonly ManifestLog[];
  /** Every folder, empty ones included (a git repository needs its empty `refs/`). */
  readonly folders: readonly string[];
  readonly files: readonly ManifestFile[];
}

/**
 * Why a backup or restore was refused: `usage` for a wrong folder or a home that cannot be copied
 * faithfully, `damaged` for a backup whose files disagree with its manifest.
 */
export class BackupError extends Error {
  constructor(message: string, readonly kind: 'usage' | 'damaged') {
    super(message);
    this.name = 'BackupError';
  }
}

/** SHA-256 (hex) and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Every entry under `dir` as relative paths with forward slashes, sorted: folders, regular files, and
 * anything else (symbolic links, sockets, devices) in `other` — a backup holds regular files only.
 */
export function walk(dir: string, skip: (rel: string) => boolean = () => false): { folders: string[]; files: string[]; other: string[] } {
  const folders: string[] = [];
  const files: string[] = [];
  const other: string[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (skip(child)) continue;
      const st = lstatSync(join(dir, child));
      if (st.isDirectory()) {
        folders.push(child);
        visit(child);
      }
      else if (st.isFile()) files.push(child);
      else other.push(child);
    }
  };
  visit('');
  return { folders, files, other };
}

/** True for a folder that does not exist or is empty (the only places backup and restore write). */
export function isMissingOrEmpty(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  return readdirSync(path).length === 0;
}

/** True when `path` lies strictly inside the folder `parent`. */
export function isInside(parent: string, path: string): boolean {
  const rel = relative(parent, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** A manifest path is relative, with no empty, `.` or `..` segment: it can only name a file inside the folder. */
function safePath(p: unknown): p is string {
  return typeof p === 'string' && p.length > 0 && p.length <= MAX_PATH && !p.includes('\\') && !p.includes('\0') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** Reads and checks the shape of `<dir>/manifest.json`; every problem is a `damaged` BackupError. */
export function readManifest(dir: string): BackupManifest {
  const file = join(dir, MANIFEST);
  const damaged = (why: string) => new BackupError(`${file}: ${why}; this is not a writ backup, or it was damaged — use another copy`, 'damaged');
  let text: string;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) throw damaged('not a regular file');
    if (st.size > MAX_MANIFEST_BYTES) throw damaged(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${dir} holds no readable ${MANIFEST} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the folder \`writ backup\` wrote`, 'usage');
  }
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw damaged('not JSON');
  }
  if (m === null || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) throw damaged(`not of format ${MANIFEST_FORMAT}`);
  if (!Array.isArray(m.files) || !Array.isArray(m.logs) || !Array.isArray(m.folders)) throw damaged('it lists no files, folders or logs');
  for (const f of m.folders as unknown[]) if (!safePath(f)) throw damaged(`a folder entry is malformed: ${JSON.stringify(f).slice(0, 200)}`);
  const seen = new Set<string>();
  for (const f of m.files as unknown[]) {
    const e = f as Partial<ManifestFile> | null;
    if (!e || !safePath(e.path) || e.path === MANIFEST || !Number.isSafeInteger(e.bytes) || (e.bytes as number) < 0 || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw damaged(`a file entry is malformed: ${JSON.stringify(f).slice(0, 200)}`);
    }
    if (seen.has(e.path)) throw damaged(`${e.path} is listed twice`);
    seen.add(e.path);
  }
  return m as BackupManifest;
}
