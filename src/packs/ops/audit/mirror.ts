import type { PackReads } from '../../../catalog/pack-module.js';
import type { OpsAuditConfig } from '../../../config/ops.js';
import { WritError } from '../../../core/errors.js';
import { messageOf, SerialQueue } from '../../../ledger/anchors/anchor.js';
import type { Attempt, Sink } from '../../../outbox/sink.js';
import type { StoredOutboxRow } from '../../../store/port.js';
import { logError, logInfo } from '../../../util/log.js';
import { AuditRepo, type AuditFile } from './audit-repo.js';
import { locate } from './locate.js';
import { entryPath, mirrorPath } from './names.js';

/** A record's place in the signed log (JobContext.leaf). */
export interface LeafOf {
  (tenant: string, scroll: string, index: number): Promise<{ readonly origin: string; readonly leafHash: string } | null>;
}

export interface MirrorDeps {
  readonly config: OpsAuditConfig;
  readonly reads: Pick<PackReads, 'get'>;
  readonly leaf: LeafOf;
  readonly now: () => number;
}

/** One mirror's position, for /metrics and logs. */
export interface MirrorPosition {
  readonly tenant: string;
  readonly workspace: string;
  readonly log: string;
  readonly index: number;
  readonly at: string;
}

interface Waiting {
  readonly file: AuditFile;
  readonly done: (a: Attempt) => void;
}

interface Pending {
  readonly tenant: string;
  readonly workspace: string;
  files: Waiting[];
  timer: NodeJS.Timeout | null;
}

/**
 * The audit mirror (docs/ops.md, "Audit mirror"): an outbox sink that commits each op event to the
 * git repository of its tenant and workspace, batched. An event is acknowledged only once its
 * commit is on the branch; a failed commit is answered not-ok, so the outbox delivers it again
 * with back-off, while ops go on (the mirror is off their path). Delivered twice, an entry is
 * found in the tree and not written again.
 */
export class AuditMirror implements Sink {
  readonly kind = 'effector' as const;
  readonly concurrency: number;
  readonly counts = { entries: 0, duplicates: 0, batches: 0, failures: 0, skipped: 0 };
  /** Events handed over and not committed yet (failing ones included), by event id: their ts. */
  readonly unsettled = new Map<string, number>();
  readonly positions = new Map<string, MirrorPosition>();
  lastError: string | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly repos = new Map<string, AuditRepo>();
  private readonly queues = new Map<string, SerialQueue>();

  constructor(private readonly deps: MirrorDeps) {
    this.concurrency = Math.max(1, deps.config.batchSize);
  }

  /** Seconds since the oldest event handed over and not committed yet; 0 when none waits. */
  lagSeconds(): number {
    let oldest = Infinity;
    for (const ts of this.unsettled.values()) oldest = Math.min(oldest, ts);
    return oldest === Infinity ? 0 : Math.max(0, (this.deps.now() - oldest) / 1000);
  }

  async deliver(event: StoredOutboxRow, json: string): Promise<Attempt> {
    let file: AuditFile;
    let key: string;
    let where: { tenant: string; workspace: string };
    try {
      const data = JSON.parse(event.data) as Record<string, any> | null;
      const located = await locate(this.deps.reads, event, data);
      if (!located) {
        this.counts.skipped++;
        return { ok: true };
      }
      where = { tenant: event.tenant, workspace: located.workspace };
      key = mirrorPath(this.deps.config.folder, event.tenant, located.workspace);
      const path = entryPath(located.op, event.index, event.action);
      const leaf = await this.deps.leaf(event.tenant, event.scroll, event.index);
      if (!leaf) return { ok: false, error: `record ${event.index} of log ${event.scroll} is not readable yet` };
      const entry = { log: leaf.origin, index: event.index, leafHash: leaf.leafHash, tenant: event.tenant, workspace: located.workspace, op: located.op, event: JSON.parse(json) };
      file = { path, content: `${JSON.stringify(entry, null, 2)}\n`, requestId: String(data?.requestId ?? ''), entry: `${leaf.origin} ${event.index}` };
    } catch (err) {
      // A read that failed (the store) is tried again; an event the mirror cannot name (a bad name)
      // is logged and passed over, since retrying cannot fix it.
      if (!(err instanceof WritError && err.code === 'INVALID_PAYLOAD')) return { ok: false, error: `the ops audit mirror could not read what event ${event.id} is about: ${messageOf(err)}`.slice(0, 500) };
      this.counts.skipped++;
      logError('the ops audit mirror passed over an event it cannot file', err, { tenant: event.tenant, event: event.id, action: event.action });
      return { ok: true };
    }
    if (!this.unsettled.has(event.id)) this.unsettled.set(event.id, Date.parse(event.ts));
    const attempt = await new Promise<Attempt>((done) => this.enqueue(key, where, { file, done }));
    if (attempt.ok) this.unsettled.delete(event.id);
    return attempt;
  }

  private enqueue(key: string, where: { tenant: string; workspace: string }, w: Waiting): void {
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { ...where, files: [], timer: null }));
    p.files.push(w);
    if (p.files.length >= this.deps.config.batchSize) this.flush(key);
    else if (!p.timer) p.timer = setTimeout(() => this.flush(key), this.deps.config.batchIntervalMs);
  }

  /** Commits what waits for `key`, one batch at a time per repository. */
  private flush(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return Promise.resolve();
    this.pending.delete(key);
    if (p.timer) clearTimeout(p.timer);
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = new SerialQueue()));
    return queue.run(async () => {
      try {
        const repo = this.repos.get(key) ?? (await AuditRepo.open(key, this.deps.config.authorEmail));
        this.repos.set(key, repo);
        const written = await repo.commit(p.files.map((w) => w.file), this.deps.now());
        this.counts.entries += written;
        this.counts.duplicates += p.files.length - written;
        this.counts.batches++;
        const last = p.files.at(-1)!.file.entry.split(' ');
        this.positions.set(key, { tenant: p.tenant, workspace: p.workspace, log: last[0], index: Number(last[1]), at: new Date(this.deps.now()).toISOString() });
        if (this.lastError) logInfo('the ops audit mirror commits again', { repository: key });
        this.lastError = null;
        for (const w of p.files) w.done({ ok: true });
      } catch (err) {
        // Opened again at the next try: the folder may have been removed or replaced meanwhile.
        this.repos.delete(key);
        this.counts.failures++;
        const message = `could not commit to the ops audit mirror ${key}: ${messageOf(err)}; check the folder's permissions and disk space (ops go on; the outbox delivers these entries again)`;
        // Logged when it starts failing, not at every retry.
        if (this.lastError === null) logError('the ops audit mirror cannot commit; it retries with back-off', err, { repository: key });
        this.lastError = message;
        for (const w of p.files) w.done({ ok: false, error: message.slice(0, 500) });
      }
    });
  }

  /** Commits what waits now. */
  async close(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((k) => this.flush(k)));
    await Promise.all([...this.queues.values()].map((q) => q.run(async () => undefined)));
  }
}
