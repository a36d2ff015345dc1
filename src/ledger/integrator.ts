import { formatCheckpoint, fromHex, parseCheckpoint, toBase64, toHex, type Hasher } from '../core/tlog/index.js';
import type { CheckpointRow, LogStore } from '../store/port.js';
import type { Lease } from '../store/shared.js';
import { logError } from '../util/log.js';
import type { Anchor, CheckpointToAnchor } from './anchors/anchor.js';
import type { NoteSigner } from './note-signer.js';
import { originOf } from './record.js';
import { TileEdge } from './tile-edge.js';
import { TileReader } from './tile-reader.js';
import { Witnessing, type Cosigner } from './witnessing.js';

/** Leaves integrated per transaction (and per checkpoint) when a log is far behind. */
export const INTEGRATION_CHUNK = 65_536;

export interface IntegratorDeps {
  readonly store: LogStore;
  readonly signer: NoteSigner;
  readonly hasher: Hasher;
  readonly originPrefix: string;
  /** How often a grown log gets a new checkpoint. */
  readonly intervalMs: number;
  readonly anchors: readonly Anchor[];
  readonly cosigners: readonly Cosigner[];
  /** Cosignatures a checkpoint needs to count as witnessed (0: witnesses are optional). */
  readonly witnessQuorum: number;
  readonly now: () => number;
  /**
   * A store shared by several processes: only the holder of this lease signs checkpoints; the others
   * follow the logs' sizes and checkpoints from the store (docs/deploy.md).
   */
  readonly lease?: Lease;
}

interface LogState {
  readonly tenant: string;
  readonly scroll: string;
  readonly origin: string;
  edge: TileEdge | null;
  /** Records known to be durable in the ledger. */
  durable: number;
  latest: CheckpointRow | null;
  /** Why this log is not being checkpointed (the database disagrees with what was signed or anchored). */
  problem: string | null;
  running: Promise<void> | null;
  waiters: Array<() => void>;
}

export interface LogStatus {
  readonly tenant: string;
  readonly scroll: string;
  readonly origin: string;
  readonly size: number;
  readonly checkpointSize: number;
  readonly cosignatures: number;
  readonly problem: string | null;
}

/**
 * The background integrator (DESIGN §1): folds durable ledger records into each log's Merkle tiles,
 * signs a checkpoint over them in the same transaction, then hands the checkpoint to the anchors and
 * witnesses. It runs beside the command path, never in it: the applier only tells it how far each log
 * is durable. A log whose database disagrees with a checkpoint that was already signed or anchored is
 * never signed again (no two checkpoints without a consistency proof); /healthz reports why.
 */
export class Integrator {
  private readonly logs = new Map<string, LogState>();
  readonly reader: TileReader;
  readonly witnessing: Witnessing;
  private timer: NodeJS.Timeout | null = null;
  private anchorQueue: CheckpointToAnchor[] = [];
  private anchoring: Promise<void> | null = null;
  private closed = false;
  private following: Promise<void> | null = null;

  private constructor(private readonly deps: IntegratorDeps) {
    this.reader = new TileReader(deps.store, deps.hasher);
    this.witnessing = new Witnessing(deps.cosigners, deps.witnessQuorum, deps.store, this.reader);
  }

  /** Opens over the ledger sizes the applier loaded, checking each log against its checkpoints and anchors. */
  static async open(deps: IntegratorDeps, heads: ReadonlyArray<{ tenant: string; scroll: string; size: number }>): Promise<Integrator> {
    const it = new Integrator(deps);
    for (const h of heads) it.state(h.tenant, h.scroll).durable = h.size;
    for (const cp of await deps.store.latestCheckpoints()) it.state(cp.tenant, cp.scroll).latest = cp;
    for (const s of it.logs.values()) await it.check(s);
    await it.checkAnchors();
    if (deps.lease) {
      // A new signer starts from the store's tiles and checkpoints, not from what it saw as a follower.
      deps.lease.onChange = (held) => {
        if (!held) return;
        for (const s of it.logs.values()) s.edge = null;
        void it.follow();
      };
    }
    return it;
  }

  /**
   * Takes in the logs' sizes that other processes made durable and, unless this process signs, the
   * checkpoints the signer stored; wakes the receipts waiting for them.
   */
  private follow(): Promise<void> {
    this.following ??= (async () => {
      for (const h of await this.deps.store.logHeads()) this.noteDurable(h.tenant, h.scroll, h.size);
      for (const cp of await this.deps.store.latestCheckpoints()) {
        const s = this.state(cp.tenant, cp.scroll);
        if (cp.size > (s.latest?.size ?? 0)) {
          s.latest = cp;
          s.edge = null;
        }
      }
      for (const s of this.logs.values()) for (const w of s.waiters.splice(0)) w();
    })()
      .catch((err) => logError('following the shared store failed; it is retried at the next interval', err))
      .finally(() => {
        this.following = null;
      });
    return this.following;
  }

  /** True when another process signs the checkpoints of this store. */
  private follower(): boolean {
    return this.deps.lease !== undefined && !this.deps.lease.held();
  }

  private state(tenant: string, scroll: string): LogState {
    const key = `${tenant}\n${scroll}`;
    let s = this.logs.get(key);
    if (!s) {
      s = { tenant, scroll, origin: originOf(this.deps.originPrefix, tenant, scroll), edge: null, durable: 0, latest: null, problem: null, running: null, waiters: [] };
      this.logs.set(key, s);
    }
    return s;
  }

  /** A log must hold every record its latest checkpoint covers, with the same root. */
  private async check(s: LogState): Promise<void> {
    const size = s.latest?.size ?? 0;
    if (s.durable < size) {
      s.problem = `${s.origin}: the ledger has ${s.durable} records but checkpoint ${size} was signed; records were deleted or the database was rolled back (run writ verify)`;
      return;
    }
    try {
      s.edge = await TileEdge.load(s.tenant, s.scroll, size, this.deps.hasher, (level, n) => this.deps.store.getTile(s.tenant, s.scroll, level, n));
    } catch (err) {
      s.problem = `${s.origin}: ${(err as Error).message}`;
      return;
    }
    if (s.latest && toHex(s.edge.root()) !== s.latest.root) s.problem = `${s.origin}: the stored tree does not match checkpoint ${size} (run writ verify)`;
  }

  /** The database must not be behind, or disagree with, any anchored checkpoint; anchors get what they miss. */
  private async checkAnchors(): Promise<void> {
    const byOrigin = new Map([...this.logs.values()].map((s) => [s.origin, s]));
    for (const anchor of this.deps.anchors) {
      const latest = await anchor.latest();
      for (const [origin, anchored] of latest) {
        const s = byOrigin.get(origin);
        const have = s?.latest?.size ?? 0;
        let problem: string | null = null;
        if (anchored.size > have) {
          problem = `${origin}: the ${anchor.kind} anchor holds checkpoint ${anchored.size}, but the database only reaches ${have}; the database was rolled back or replaced (run writ verify)`;
        } else if (s && !s.problem && anchored.size > 0) {
          // Same or smaller size: the tree the database holds must have the anchored root at that size.
          const root = await this.reader.root(s.tenant, s.scroll, anchored.size).catch(() => null);
          if (!root || toHex(root) !== toHex(parseCheckpoint(anchored.note).root)) {
            problem = `${origin}: the ${anchor.kind} anchor holds checkpoint ${anchored.size} with another root than the database's tree; the database was rewritten (run writ verify)`;
          }
        }
        if (problem && s) s.problem ??= problem;
        else if (problem) logError('anchored log missing from the database', new Error(problem));
      }
      for (const s of this.logs.values()) {
        const from = latest.get(s.origin)?.size ?? 0;
        if (s.problem || !s.latest || s.latest.size <= from) continue;
        for (const cp of await this.deps.store.checkpoints(s.tenant, s.scroll, from + 1, 1_000_000)) this.anchorQueue.push(this.toAnchor(cp));
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs);
    this.timer.unref();
    this.kickAnchors();
  }

  /** Called by the applier after a commit: the log holds `size` durable records. */
  noteDurable(tenant: string, scroll: string, size: number): void {
    const s = this.state(tenant, scroll);
    if (size > s.durable) s.durable = size;
  }

  private tick(): void {
    if (this.deps.lease) {
      // Sizes other processes made durable first; then sign, if this process holds the lease.
      void this.follow().then(() => {
        if (!this.follower()) for (const s of this.logs.values()) if (!s.running && !s.problem && s.durable > (s.latest?.size ?? 0)) void this.run(s);
      });
      return;
    }
    for (const s of this.logs.values()) if (!s.running && !s.problem && s.durable > (s.latest?.size ?? 0)) void this.run(s);
  }

  private run(s: LogState): Promise<void> {
    if (this.follower()) return this.follow();
    s.running ??= this.integrate(s)
      .catch((err) => {
        // The edge may hold leaves whose tiles were not written: rebuild it from the store next time.
        s.edge = null;
        logError('integration failed; it is retried at the next interval', err, { log: s.origin });
      })
      .finally(() => {
        s.running = null;
      });
    return s.running;
  }

  private async integrate(s: LogState): Promise<void> {
    if (!s.edge) await this.check(s);
    if (s.problem || !s.edge) return;
    const edge = s.edge;
    while (edge.size < s.durable && !this.closed) {
      const to = Math.min(s.durable, edge.size + INTEGRATION_CHUNK);
      const hashes = await this.deps.store.readLeafHashes(s.tenant, s.scroll, edge.size, to);
      if (hashes.length !== to - edge.size) throw new Error(`expected ${to - edge.size} records of ${s.origin} from ${edge.size}, found ${hashes.length}`);
      for (const h of hashes) edge.append(fromHex(h));
      const root = edge.root();
      const text = formatCheckpoint({ origin: s.origin, size: edge.size, root, extensions: [] });
      const checkpoint: CheckpointRow = { tenant: s.tenant, scroll: s.scroll, size: edge.size, root: toHex(root), note: this.deps.signer.signNote(text), createdAt: new Date(this.deps.now()).toISOString(), cosignatures: 0 };
      await this.deps.store.integrate({ tiles: edge.takeChanged(), checkpoint });
      s.latest = checkpoint;
      this.anchorQueue.push(this.toAnchor(checkpoint));
    }
    this.kickAnchors();
    if (s.latest && this.deps.cosigners.length > 0) s.latest = await this.witnessing.witness(s.latest, s.origin);
    for (const w of s.waiters.splice(0)) w();
  }

  private toAnchor(cp: CheckpointRow): CheckpointToAnchor {
    return { tenant: cp.tenant, scroll: cp.scroll, origin: originOf(this.deps.originPrefix, cp.tenant, cp.scroll), size: cp.size, rootBase64: toBase64(fromHex(cp.root)), note: cp.note, at: cp.createdAt };
  }

  /** Publishes queued checkpoints to every anchor, in order; a failure keeps them queued for the next round. */
  private kickAnchors(): void {
    if (this.anchoring || this.anchorQueue.length === 0 || this.deps.anchors.length === 0) {
      if (this.deps.anchors.length === 0) this.anchorQueue = [];
      return;
    }
    const batch = this.anchorQueue.splice(0);
    this.anchoring = Promise.all(this.deps.anchors.map((a) => a.publish(batch)))
      .then(() => undefined)
      .catch((err) => {
        this.anchorQueue.unshift(...batch);
        logError('anchoring checkpoints failed; they are retried with the next checkpoint', err);
      })
      .finally(() => {
        this.anchoring = null;
      });
  }

  /**
   * Integrates everything durable now and resolves with the latest checkpoint of the log (null when
   * the log is empty). Rejects when the log cannot be checkpointed (see problems()).
   */
  async checkpointNow(tenant: string, scroll: string): Promise<CheckpointRow | null> {
    const s = this.state(tenant, scroll);
    if (s.running) await s.running;
    if (s.durable > (s.latest?.size ?? 0)) await this.run(s);
    if (s.problem) throw new Error(s.problem);
    return s.latest;
  }

  /** Resolves once a checkpoint covers `index` (true), or after `timeoutMs` (false). */
  async waitFor(tenant: string, scroll: string, index: number, timeoutMs: number): Promise<boolean> {
    const s = this.state(tenant, scroll);
    const covered = () => (s.latest?.size ?? 0) > index && (this.deps.witnessQuorum === 0 || (s.latest?.cosignatures ?? 0) >= this.deps.witnessQuorum);
    const deadline = this.deps.now() + timeoutMs;
    while (!covered() && this.deps.now() < deadline && !s.problem) {
      if (!s.running && s.durable > index) void this.run(s);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, Math.min(250, deadline - this.deps.now())));
        s.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return covered();
  }

  status(): LogStatus[] {
    return [...this.logs.values()].map((s) => ({
      tenant: s.tenant,
      scroll: s.scroll,
      origin: s.origin,
      size: s.durable,
      checkpointSize: s.latest?.size ?? 0,
      cosignatures: s.latest?.cosignatures ?? 0,
      problem: s.problem,
    }));
  }

  anchorStatus() {
    return this.deps.anchors.map((a) => a.status());
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.logs.values()].map((s) => s.running));
    this.kickAnchors();
    while (this.anchoring) await this.anchoring;
    await Promise.all(this.deps.anchors.map((a) => a.close()));
  }
}
