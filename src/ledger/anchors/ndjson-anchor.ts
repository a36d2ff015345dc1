import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { WritError } from '../../core/errors.js';
import { checkPublishable, messageOf, rollbackError, SerialQueue, type Anchor, type AnchoredCheckpoint, type AnchorStatus, type CheckpointToAnchor } from './anchor.js';
import { scanLines, setTornTailAside, syncFolder, tornTail, type CheckpointLine } from './ndjson-file.js';

/** Options of NdjsonAnchor.open. */
export interface NdjsonAnchorOptions {
  /** The file; it and its folder are created when missing. */
  readonly path: string;
}

/**
 * Anchors checkpoints as one JSON line each, `{"origin","tenant","scroll","size","root","note","at"}`,
 * appended to a file (easy to ship to a log collector or WORM storage).
 *
 * fsync policy: each publish appends all its lines with one write to a file opened O_APPEND and
 * calls fdatasync before it resolves; the folder is fsynced when the file is new. A resolved
 * publish therefore survives a crash or power loss, and a crash mid-append leaves at most a torn
 * last line: readers ignore it (and report it in `warnings` and status().lastError), and the next
 * publish moves it to `<path>.torn-<ms>` and truncates it away, so new lines start on a fresh line.
 * Opening never changes an existing file, so `writ verify` may read it while a server appends.
 *
 * Publish refuses a size smaller than the largest of its origin in the file, which it learns by
 * reading the file once (at the first publish or latest() call).
 */
export class NdjsonAnchor implements Anchor {
  readonly kind = 'ndjson' as const;
  private readonly queue = new SerialQueue();
  private readonly reported = new Set<string>();
  private sizes: Map<string, { size: number; root: string }> | null = null;
  private anchored = 0;
  private lastError: string | null = null;
  private lastAt: string | null = null;
  private closed = false;

  /** @param tailClean false while the file may end in a torn line (found at open, or after a failed write). */
  private constructor(private readonly path: string, private readonly file: FileHandle, private tailClean: boolean) {}

  /** Opens (creating when missing) the file at `options.path`; only reads it. */
  static async open(options: NdjsonAnchorOptions): Promise<NdjsonAnchor> {
    const path = resolve(options.path);
    let file: FileHandle | undefined;
    try {
      await mkdir(dirname(path), { recursive: true });
      file = await open(path, 'a+');
      if ((await file.stat()).size === 0) await syncFolder(dirname(path));
      const torn = await tornTail(file);
      const anchor = new NdjsonAnchor(path, file, torn === null);
      if (torn) anchor.report(`${path} ends in a torn line of ${torn.length} bytes (a crash mid-append); it is ignored, and set aside at the next publish`);
      return anchor;
    } catch (err) {
      await file?.close().catch(() => undefined);
      throw new WritError('UNAVAILABLE', `cannot open the NDJSON anchor ${path}: ${messageOf(err)}; point anchors.ndjson.path at a file writ may write`, { cause: err });
    }
  }

  /** Problems found while opening or reading (a torn last line), each once. */
  get warnings(): readonly string[] {
    return [...this.reported];
  }

  publish(checkpoints: readonly CheckpointToAnchor[]): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) throw new WritError('UNAVAILABLE', 'the NDJSON anchor is closed');
      try {
        await this.append(checkpoints);
      } catch (err) {
        this.lastError = messageOf(err);
        throw err;
      }
    });
  }

  private async append(checkpoints: readonly CheckpointToAnchor[]): Promise<void> {
    checkpoints.forEach(checkPublishable);
    const sizes = new Map(this.sizes ?? (await this.scanLatest()).sizes);
    const lines: string[] = [];
    const planned = new Map<string, string>();
    let older: Map<string, string> | null = null;
    for (const cp of checkpoints) {
      const prev = sizes.get(cp.origin);
      const key = `${cp.origin}\n${cp.size}`;
      if (prev && cp.size <= prev.size) {
        // Not newer: fine only when it is a checkpoint already anchored, sent again (after a partial failure, or a catch-up at start).
        if (cp.size < prev.size && !planned.has(key)) older ??= await this.rootsOf(checkpoints);
        const root = cp.size === prev.size ? prev.root : planned.get(key) ?? older?.get(key);
        if (root === cp.rootBase64) continue;
        throw rollbackError(cp, prev.size, `ndjson ${this.path}`);
      }
      planned.set(key, cp.rootBase64);
      const line: CheckpointLine = { origin: cp.origin, tenant: cp.tenant, scroll: cp.scroll, size: cp.size, root: cp.rootBase64, note: cp.note, at: cp.at };
      lines.push(JSON.stringify(line) + '\n');
      sizes.set(cp.origin, { size: cp.size, root: cp.rootBase64 });
    }
    if (lines.length === 0) return;
    try {
      if (!this.tailClean) {
        const setAside = await setTornTailAside(this.file, this.path);
        if (setAside) this.report(setAside);
      }
      this.tailClean = false; // until the write below is whole and synced
      await this.file.appendFile(lines.join(''));
      await this.file.datasync();
      this.tailClean = true;
    } catch (err) {
      throw new WritError('UNAVAILABLE', `could not append to the NDJSON anchor ${this.path}: ${messageOf(err)}; check disk space and permissions`, { cause: err });
    }
    this.sizes = sizes;
    this.anchored += lines.length;
    this.lastAt = new Date().toISOString();
    this.lastError = null;
  }

  readAll(): Promise<AnchoredCheckpoint[]> {
    return this.queue.run(async () => {
      const out: AnchoredCheckpoint[] = [];
      await this.scan((line, lineNo) => out.push(this.anchoredAt(line, lineNo)));
      return out;
    });
  }

  latest(): Promise<Map<string, AnchoredCheckpoint>> {
    return this.queue.run(async () => (await this.scanLatest()).latest);
  }

  status(): AnchorStatus {
    return { kind: this.kind, target: this.path, anchored: this.anchored, lastError: this.lastError, lastAt: this.lastAt };
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.file.close();
    });
  }

  /** The roots the file holds for the origins and sizes of these checkpoints, by "origin\nsize". */
  private async rootsOf(checkpoints: readonly CheckpointToAnchor[]): Promise<Map<string, string>> {
    const wanted = new Set(checkpoints.map((cp) => `${cp.origin}\n${cp.size}`));
    const roots = new Map<string, string>();
    await this.scan((line) => {
      const key = `${line.origin}\n${line.size}`;
      if (wanted.has(key)) roots.set(key, line.root);
    });
    return roots;
  }

  /** Reads the file once; also refreshes the sizes publish checks against. Call inside the queue. */
  private async scanLatest(): Promise<{ latest: Map<string, AnchoredCheckpoint>; sizes: Map<string, { size: number; root: string }> }> {
    const latest = new Map<string, AnchoredCheckpoint>();
    const sizes = new Map<string, { size: number; root: string }>();
    await this.scan((line, lineNo) => {
      if ((sizes.get(line.origin)?.size ?? -1) > line.size) return;
      latest.set(line.origin, this.anchoredAt(line, lineNo));
      sizes.set(line.origin, { size: line.size, root: line.root });
    });
    this.sizes = sizes;
    return { latest, sizes };
  }

  private anchoredAt(line: CheckpointLine, lineNo: number): AnchoredCheckpoint {
    return { origin: line.origin, size: line.size, note: line.note, where: `ndjson ${this.path}:${lineNo}` };
  }

  /** Reads every complete line; reports a torn last line. */
  private async scan(visit: (line: CheckpointLine, lineNo: number) => void): Promise<void> {
    const torn = await scanLines(this.path, visit);
    if (torn) this.report(`${this.path}:${torn.lineNo}: torn last line of ${torn.length} bytes (a crash mid-append) ignored`);
  }

  private report(warning: string): void {
    this.reported.add(warning);
    this.lastError = warning;
  }
}
