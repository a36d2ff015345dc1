import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WritError } from '../core/errors.js';
import { fromBase64 } from '../core/tlog/index.js';

/** The latest checkpoint a witness cosigned for one log (C2SP tlog-witness: "the latest checkpoint it observed and verified"). */
export interface CosignedHead {
  readonly size: number;
  /** RFC 6962 root hash, base64 (32 bytes). */
  readonly root: string;
}

interface StateFile {
  v: 1;
  logs: Record<string, CosignedHead>;
}

function corrupt(path: string, why: string): never {
  // A witness that silently forgot its state would cosign a rolled-back log: refuse to start instead.
  throw new WritError('INTERNAL', `witness state ${path} is unreadable (${why}); restore it from a backup — deleting it lets the witness cosign a rolled-back log`);
}

function parseState(path: string, text: string): Map<string, CosignedHead> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    corrupt(path, (err as Error).message);
  }
  const d = doc as Partial<StateFile> | null;
  if (!d || typeof d !== 'object' || d.v !== 1 || !d.logs || typeof d.logs !== 'object' || Array.isArray(d.logs)) corrupt(path, 'not a {"v":1,"logs":{…}} document');
  const out = new Map<string, CosignedHead>();
  for (const [origin, head] of Object.entries(d.logs)) {
    const ok = head && typeof head === 'object' && Number.isSafeInteger(head.size) && head.size >= 0 && typeof head.root === 'string';
    if (!ok) corrupt(path, `bad entry for ${JSON.stringify(origin)}`);
    try {
      if (fromBase64(head.root).length !== 32) throw new Error('not 32 bytes');
    } catch {
      corrupt(path, `bad root hash for ${JSON.stringify(origin)}`);
    }
    out.set(origin, { size: head.size, root: head.root });
  }
  return out;
}

/**
 * The witness's durable record of the latest cosigned checkpoint per origin, all origins in one
 * JSON file. C2SP tlog-witness: the witness MUST persist the new checkpoint before responding, and
 * the check of the old size and the update MUST be atomic; `withLock` serialises the check-and-update
 * per origin in this process (one process owns the file), `put` resolves only once the file is durable.
 */
export class WitnessState {
  private readonly heads: Map<string, CosignedHead>;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Writes of the whole file, one at a time, each from the state current when it starts. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(readonly path: string, heads: Map<string, CosignedHead>) {
    this.heads = heads;
  }

  /** Reads the state file, or starts empty when it does not exist yet. Throws when it is corrupt. */
  static async open(path: string): Promise<WitnessState> {
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new WitnessState(path, text === null ? new Map() : parseState(path, text));
  }

  /** The latest cosigned head of `origin`, or undefined when the witness never cosigned it (size 0). */
  get(origin: string): CosignedHead | undefined {
    return this.heads.get(origin);
  }

  /** A copy of every origin's head. */
  all(): Record<string, CosignedHead> {
    return Object.fromEntries(this.heads);
  }

  /**
   * Runs `fn` while no other `withLock` for the same origin runs: the caller reads `get`, checks,
   * and `put`s inside, so two requests can never both pass the old-size check (the rollback race
   * described in C2SP tlog-witness).
   */
  async withLock<T>(origin: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(origin) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(origin, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(origin) === tail) this.locks.delete(origin);
    }
  }

  /** Records `head` for `origin` durably (temp file, fsync, rename, fsync folder); memory changes only once the file did. */
  async put(origin: string, head: CosignedHead): Promise<void> {
    const write = this.writing.then(async () => {
      const logs = Object.fromEntries(this.heads);
      logs[origin] = { size: head.size, root: head.root };
      await writeDurably(this.path, JSON.stringify({ v: 1, logs } satisfies StateFile, null, 1) + '\n');
      this.heads.set(origin, { size: head.size, root: head.root });
    });
    this.writing = write.catch(() => undefined);
    await write;
  }
}

/** Replaces `path` atomically: a crash leaves either the old or the new content, never a mix. */
async function writeDurably(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  // The rename is durable only once the folder entry is (POSIX); some platforms cannot fsync a folder.
  const dh = await open(dir, 'r');
  try {
    await dh.sync().catch(() => undefined);
  } finally {
    await dh.close();
  }
}
