import { resolve } from 'node:path';
import { WritError } from '../../core/errors.js';
import { checkPublishable, messageOf, rollbackError, SerialQueue, type Anchor, type AnchoredCheckpoint, type AnchorStatus, type CheckpointToAnchor } from './anchor.js';
import { durabilityConfig, openRepository, runGit, type GitRunOptions } from './git-cli.js';
import { GitHistory, REF_PREFIX, refFor } from './git-history.js';

// fast-import must commit to some branch; this one is reset at the end of every stream, so it is
// never written to the repository and the real refs move only through update-ref below.
const SCRATCH_REF = 'refs/writ/import';
const PUSH_TIMEOUT_MS = 60_000;
// fast-import leaves small batches as loose objects; `gc --auto` packs them once git thinks it is worth it.
const GC_EVERY_PUBLISHES = 512;

/** Options of GitAnchor.open. */
export interface GitAnchorOptions {
  /** The repository; a bare one is created when the folder is missing or empty. */
  readonly path: string;
  /** Pushes `refs/writ/checkpoints/*` (fast-forward only) to this remote name or URL after each publish. */
  readonly push?: { readonly remote: string };
  /** Author and committer email of the checkpoint commits (the name is always `writ`). */
  readonly authorEmail?: string;
}

interface Tip { readonly commit: string; readonly size: number; readonly rootBase64: string }
interface Planned { readonly cp: CheckpointToAnchor; readonly ref: string; readonly parent: string | null }

/**
 * Anchors checkpoints in a git repository: one ref per log, `refs/writ/checkpoints/<tenant>/<scroll>`,
 * whose history is the log's checkpoints — each a commit `<origin> <size>` dated at signing time,
 * whose tree holds one file `checkpoint` with the signed note's exact bytes.
 *
 * A publish is one `git fast-import` (objects) and one `git update-ref --stdin` that moves every
 * ref from the value it had to its new tip, all or none, so a concurrent writer can never make a
 * ref lose history; git is told to fsync objects and refs (see durabilityConfig). Publishes run
 * one at a time. Pushes run after a publish resolves, off its path: a failed push is kept in
 * status().pushError and retried after the next publish; close() waits for it.
 *
 * Tenant and scroll become ref components; on a case-insensitive file system two tenants that
 * differ only in case would share loose ref files, so keep such repositories on a case-sensitive one.
 */
export class GitAnchor implements Anchor {
  readonly kind = 'git' as const;
  private readonly queue = new SerialQueue();
  private background: Promise<void> = Promise.resolve();
  private backgroundQueued: { gc: boolean } | null = null;
  private tips = new Map<string, Tip>();
  private anchored = 0;
  private pushed = 0;
  private publishes = 0;
  private lastError: string | null = null;
  private lastAt: string | null = null;
  private pushError: string | null = null;
  private closed = false;
  private readonly history: GitHistory;

  private constructor(private readonly gitDir: string, private readonly config: readonly string[], private readonly options: GitAnchorOptions) {
    this.history = new GitHistory((args, opts) => this.git(args, opts), gitDir);
  }

  /** Opens (creating when missing) the repository at `options.path`. */
  static async open(options: GitAnchorOptions): Promise<GitAnchor> {
    if (options.authorEmail !== undefined && !/^[^<>\s]+$/.test(options.authorEmail)) throw new WritError('INTERNAL', `anchors.git.authorEmail ${JSON.stringify(options.authorEmail)} must be an email address without spaces or angle brackets`);
    const config = await durabilityConfig(); // first, so a missing git is reported before anything is created
    const anchor = new GitAnchor(await openRepository(resolve(options.path)), config, options);
    anchor.tips = await anchor.readTips();
    return anchor;
  }

  publish(checkpoints: readonly CheckpointToAnchor[]): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) throw new WritError('UNAVAILABLE', 'the git anchor is closed');
      try {
        const plan = await this.plan(checkpoints);
        if (plan.length === 0) return;
        await this.write(plan);
        this.anchored += plan.length;
        this.lastAt = new Date().toISOString();
        this.lastError = null;
      } catch (err) {
        this.lastError = messageOf(err);
        throw err;
      }
      this.afterPublish();
    });
  }

  readAll(): Promise<AnchoredCheckpoint[]> {
    return this.history.all();
  }

  async latest(): Promise<Map<string, AnchoredCheckpoint>> {
    const out = new Map<string, AnchoredCheckpoint>();
    for (const { checkpoint } of await this.history.tips()) {
      if ((out.get(checkpoint.origin)?.size ?? -1) < checkpoint.size) out.set(checkpoint.origin, checkpoint);
    }
    return out;
  }

  status(): AnchorStatus {
    const base = { kind: this.kind, target: this.gitDir, anchored: this.anchored, lastError: this.lastError, lastAt: this.lastAt };
    return this.options.push ? { ...base, pushed: this.pushed, pushError: this.pushError } : base;
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      this.closed = true;
    });
    await this.background;
  }

  /** Refuses rollbacks and forks, skips checkpoints already anchored, and links each to its parent. */
  private async plan(checkpoints: readonly CheckpointToAnchor[]): Promise<Planned[]> {
    const plan: Planned[] = [];
    const pending = new Map<string, { size: number; rootBase64: string; parent: string }>();
    const histories = new Map<string, Map<number, string>>();
    for (const cp of checkpoints) {
      checkPublishable(cp);
      const ref = refFor(cp.tenant, cp.scroll);
      const tip = pending.get(ref) ?? this.tips.get(ref);
      if (tip && cp.size <= tip.size) {
        // Not newer: fine only when it is a checkpoint already anchored, sent again (after a partial failure, or a catch-up at start).
        if ((await this.anchoredRoot(ref, cp.size, tip, plan, histories)) === cp.rootBase64) continue;
        throw rollbackError(cp, tip.size, `git ${ref}`);
      }
      const parent = pending.get(ref)?.parent ?? this.tips.get(ref)?.commit ?? null;
      plan.push({ cp, ref, parent });
      pending.set(ref, { size: cp.size, rootBase64: cp.rootBase64, parent: `:${2 * plan.length}` });
    }
    return plan;
  }

  /** The root anchored at `size` for the ref: its tip, this batch, or (read once per batch) its history. */
  private async anchoredRoot(ref: string, size: number, tip: { size: number; rootBase64: string }, plan: readonly Planned[], histories: Map<string, Map<number, string>>): Promise<string | undefined> {
    if (size === tip.size) return tip.rootBase64;
    const planned = plan.find((p) => p.ref === ref && p.cp.size === size);
    if (planned) return planned.cp.rootBase64;
    if (!this.tips.has(ref)) return undefined;
    let roots = histories.get(ref);
    if (!roots) histories.set(ref, (roots = await this.history.rootsBySize(ref)));
    return roots.get(size);
  }

  private async write(plan: readonly Planned[]): Promise<void> {
    let commits: string[];
    try {
      const out = await this.git(['fast-import', '--quiet', '--done', '--cat-blob-fd=1'], { input: this.importStream(plan) });
      commits = out.toString('utf8').trim().split('\n');
    } catch (err) {
      throw new WritError('UNAVAILABLE', `could not write checkpoints to the git anchor ${this.gitDir}: ${messageOf(err)}; check disk space and permissions`, { cause: err });
    }
    const moves = new Map<string, { old: string | null; next: string; cp: CheckpointToAnchor }>();
    plan.forEach((p, i) => moves.set(p.ref, { old: moves.get(p.ref)?.old ?? this.tips.get(p.ref)?.commit ?? null, next: commits[i], cp: p.cp }));
    const zero = '0'.repeat(commits[0].length);
    try {
      await this.git(['update-ref', '--stdin'], { input: [...moves].map(([ref, m]) => `update ${ref} ${m.next} ${m.old ?? zero}\n`).join('') });
    } catch (err) {
      this.tips = await this.readTips().catch(() => this.tips);
      throw new WritError('UNAVAILABLE', `could not move the checkpoint refs in ${this.gitDir}: ${messageOf(err)}; if another process writes to this repository give each its own anchors.git.path, else check disk space and permissions`, { cause: err });
    }
    for (const [ref, m] of moves) this.tips.set(ref, { commit: m.next, size: m.cp.size, rootBase64: m.cp.rootBase64 });
  }

  /** The fast-import stream (git-fast-import(1)): blob :2i+1 and commit :2i+2 per checkpoint, then their ids. */
  private importStream(plan: readonly Planned[]): Buffer {
    const who = `writ <${this.options.authorEmail ?? 'writ@localhost'}>`;
    const parts = plan.map(({ cp, parent }, i) => {
      const when = `${Math.floor(Date.parse(cp.at) / 1000)} +0000`;
      const message = `${cp.origin} ${cp.size}`;
      return (
        `reset ${SCRATCH_REF}\n${parent ? `from ${parent}\n` : ''}\n` +
        `blob\nmark :${2 * i + 1}\ndata ${Buffer.byteLength(cp.note)}\n${cp.note}\n` +
        `commit ${SCRATCH_REF}\nmark :${2 * i + 2}\nauthor ${who} ${when}\ncommitter ${who} ${when}\n` +
        `data ${Buffer.byteLength(message)}\n${message}\nM 100644 :${2 * i + 1} checkpoint\n\n`
      );
    });
    parts.push(`reset ${SCRATCH_REF}\n\n`, ...plan.map((_, i) => `get-mark :${2 * i + 2}\n`), 'done\n');
    return Buffer.from(parts.join(''), 'utf8');
  }

  /** Coalesces the push (and now and then a `gc --auto`) that follow publishes: one running, at most one queued. */
  private afterPublish(): void {
    const gc = ++this.publishes % GC_EVERY_PUBLISHES === 0;
    if (!this.options.push && !gc) return;
    if (this.backgroundQueued) {
      this.backgroundQueued.gc ||= gc;
      return;
    }
    const job = { gc };
    this.backgroundQueued = job;
    this.background = this.background.then(async () => {
      this.backgroundQueued = null;
      if (this.options.push) await this.pushNow(this.options.push.remote);
      if (job.gc) await this.git(['-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet']).catch((err) => (this.lastError = `git gc --auto failed: ${messageOf(err)}`));
    });
  }

  private async pushNow(remote: string): Promise<void> {
    const covered = this.anchored;
    try {
      // No '+' in the refspec: the remote accepts fast-forwards only, so it never loses history either.
      await this.git(['push', '--quiet', remote, `${REF_PREFIX}*:${REF_PREFIX}*`], { timeoutMs: PUSH_TIMEOUT_MS });
      this.pushed = covered;
      this.pushError = null;
    } catch (err) {
      this.pushError = `push to ${remote} failed, retried after the next publish: ${messageOf(err)}`;
    }
  }

  private async readTips(): Promise<Map<string, Tip>> {
    return new Map((await this.history.tips()).map((t) => [t.ref, { commit: t.commit, size: t.checkpoint.size, rootBase64: t.rootBase64 }]));
  }

  private git(args: readonly string[], options?: GitRunOptions): Promise<Buffer> {
    return runGit([`--git-dir=${this.gitDir}`, ...this.config, ...args], options);
  }
}
