import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { WritError, toWritError } from '../../core/errors.js';
import type { Directory } from '../../state/directory.js';
import type { CommandStore, EntityRow, EntityStore, LogStore, StoredOutcome, StoreLifecycle } from '../../store/port.js';
import { LogSequencer, type Sequencer } from '../../ledger/sequencer.js';
import { RefusalWithFollowUp, type FollowUp } from '../../approvals/decide.js';
import type { PolicyDecider } from '../../policy/live.js';
import { systemContext } from '../system.js';
import { holdCommand } from './held.js';
import { recheckHeld, settleHeld, type SettleDeps } from './settle.js';
import { LedgerWriter, newWrites, type Writes } from './ledger-writer.js';
import { Overlay } from './overlay.js';
import { authorityChanged } from './authority.js';
import { planErasure, writeErasures, type Erasure } from './erasure.js';
import { planCommand, type PlanDeps } from './plan.js';
import type { CommandContext, Reply } from '../context.js';
import { replayOf } from '../idempotency/idempotency.js';
import { RecordTooLarge } from '../../ledger/record.js';
import { errorAnswer, toReply } from '../reply.js';
import { logError } from '../../util/log.js';
import type { WriteTurn } from '../../store/shared.js';
import { TurnKeeper } from './turns.js';

/** What the apply stage uses of the store: it commits batches, and reads outcomes, entities and log heads (never the outbox). */
export type ApplyStore = StoreLifecycle & CommandStore & EntityStore & LogStore;

export interface ApplierDeps {
  readonly store: ApplyStore;
  /** Places each record in its log; absent: the heads of this process's own logs, in memory (LogSequencer). */
  readonly sequencer?: Sequencer;
  readonly catalog: Catalog;
  /** Re-checks a command held for approval when it is about to run. */
  readonly policy: PolicyDecider;
  readonly directory: Directory;
  readonly originPrefix: string;
  readonly maxBatch: number;
  /** False when a key certainly has no stored outcome (see KnownKeys); absent: ask the store. */
  readonly mayHaveOutcome?: (tenant: string, actor: string, requestId: string) => boolean;
  /** Told of every outcome once it is durable; `replaced` when it took the place of the key's earlier one. */
  readonly onStored?: (outcome: StoredOutcome, replaced: boolean) => void;
  /** Told, after each commit, of every log that grew: it now holds `size` durable records. */
  readonly onDurable?: (tenant: string, scroll: string, size: number) => void;
  /** Told of each batch's entity writes once durable, in commit order (the knowledge pack moves its git refs after them). */
  readonly onApplied?: (rows: readonly EntityRow[]) => void;
  /**
   * Awaited before each batch is handed to the store (in batch order): what the batch's effects wrote
   * outside the store must be durable first (the knowledge pack fsyncs its new git objects). A
   * failure fails the batch, and every batch after it, like a failed commit.
   */
  readonly beforeCommit?: () => Promise<void>;
  /** Told of each batch once durable: its commands, and the seconds from hand-over to the store until then. */
  readonly onCommitted?: (commands: number, seconds: number) => void;
  /** Expiry to persist with a checked nonce. */
  readonly nonceExpiry: (ctx: CommandContext) => number;
  readonly now: () => number;
  /** A store shared with other writ processes: batches are planned and committed within its write turn (turns.ts). */
  readonly turn?: WriteTurn;
}

type Unit = { readonly ctx: CommandContext; readonly error?: WritError; readonly resolve: (reply: Reply) => void };

export interface ApplyStats {
  batches: number;
  commands: number;
  largestBatch: number;
}

/** Batches handed to the store and not yet settled; planning runs at most this far ahead. */
export const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * The apply stage. Each command becomes ONE unit of a group-committed transaction: expected-version
 * check, effect, entity versions, ledger record (placed in its log by the ledger's sequencer),
 * outbox event, stored outcome and nonce. Every caller is answered only after its batch is
 * durable. Authenticated rejections are units too: a ledger record with their code.
 *
 * A batch is planned on the event loop against committed state plus the overlay of batches still
 * being committed, then handed to the store, and the next batch is planned at once. If a commit
 * fails, every batch after it fails too (the store refuses them), and planning resumes from the
 * store's state.
 */
export class Applier {
  private queue: Unit[] = [];
  private draining = false;
  private readonly overlay = new Overlay();
  private readonly sequencer: Sequencer;
  private readonly writer: LedgerWriter;
  private readonly settleDeps: SettleDeps;
  private readonly planDeps: PlanDeps;
  private readonly inFlight = new Set<Promise<unknown>>();
  private recovering: Promise<void> | null = null;
  /** Bumped by every failure: a batch planned across one is not submitted. */
  private epoch = 0;
  /** The last batch's beforeCommit: each waits for the one before, so batches reach the store in order, and a failed one fails those after it. */
  private gate: Promise<void> = Promise.resolve();
  readonly stats: ApplyStats = { batches: 0, commands: 0, largestBatch: 0 };

  private readonly deps: ApplierDeps;
  /** The time of the unit being processed (and of its follow-up), while there is one. */
  private unitNow: number | null = null;
  private readonly turns: TurnKeeper | null;

  private constructor(deps: ApplierDeps) {
    const read = (tenant: string, type: string, id: string) => this.getEntity(tenant, type, id);
    // One time per unit: the effect's `now` is the time of the record it writes (EffectContext.now),
    // so that replaying the ledger at its records' times gives the same documents.
    const clock = deps.now;
    const now = () => this.unitNow ?? clock();
    deps = { ...deps, now };
    this.deps = deps;
    this.sequencer = deps.sequencer ?? new LogSequencer();
    this.writer = new LedgerWriter(deps, this.sequencer, this.overlay, read);
    this.planDeps = {
      catalog: deps.catalog,
      now,
      read,
      configuredKey: (tenant, keyId) => deps.directory.configured(tenant, keyId),
      recordExists: async (tenant, scroll, index) => (await deps.store.readLedger(tenant, scroll, index, 1))[0]?.index === index,
    };
    this.settleDeps = { ...deps, writer: this.writer, read, plan: (ctx, current) => this.plan(ctx, current), recheck: (held) => recheckHeld({ ...deps, read }, held) };
    this.turns = deps.turn ? new TurnKeeper(deps.turn, (start) => this.resync(start.registries), () => this.settled()) : null;
  }

  /** Another process wrote since this one's last turn: reload the log heads, and the directory if it changed. */
  private async resync(registries: boolean): Promise<void> {
    await this.sequencer.load(this.deps.store);
    if (registries) await this.deps.directory.reload(this.deps.store);
  }

  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  static async open(deps: ApplierDeps): Promise<Applier> {
    const a = new Applier(deps);
    await a.sequencer.load(deps.store);
    return a;
  }

  get pending(): number {
    return this.queue.length + this.inFlight.size;
  }

  /** Sizes of all logs, for status pages. */
  logSizes(): Array<{ tenant: string; scroll: string; size: number }> {
    return this.sequencer.heads().map(({ tenant, scroll, size }) => ({ tenant, scroll, size }));
  }

  execute(ctx: CommandContext): Promise<Reply> {
    return this.enqueue(ctx, undefined);
  }

  reject(ctx: CommandContext, error: WritError): Promise<Reply> {
    return this.enqueue(ctx, error);
  }

  private enqueue(ctx: CommandContext, error: WritError | undefined): Promise<Reply> {
    return new Promise((resolve) => {
      this.queue.push({ ctx, error, resolve });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    do {
      await this.drainQueue();
      // Nothing queued: let the batches in flight settle and give the write turn up (shared stores).
      await this.turns?.yield(true);
    } while (this.queue.length > 0);
    this.draining = false;
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.recovering) await this.recovering;
      while (this.inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(this.inFlight);
      if (this.turns) {
        try {
          await this.turns.take();
        } catch (err) {
          this.failBatch(this.queue.splice(0, this.deps.maxBatch), err);
          continue;
        }
      }
      // A batch in flight may have failed while this loop waited above: its epoch is already the new
      // one, so planning now would not be caught by the check below, and would read the overlay of
      // the failed batch (answering a retry of its command from an outcome that was never stored).
      if (this.recovering) continue;
      const batch = this.queue.splice(0, this.deps.maxBatch);
      const epoch = this.epoch;
      const w = newWrites();
      const replies: Reply[] = [];
      try {
        for (const unit of batch) replies.push(await this.process(unit, w));
      } catch (err) {
        this.failBatch(batch, err);
        this.startRecovery();
        continue;
      }
      if (epoch !== this.epoch) {
        // The recovery may have cleared the overlay before this batch's writes went into it: take
        // them out, or a retry of one of its commands would be answered from an outcome never stored.
        this.overlay.release([...w.entities, ...w.erasedVersions], [...w.outcomes, ...w.outcomeUpdates]);
        this.failBatch(batch, new Error('a batch committed before this one failed'));
        continue;
      }
      const handedOver = performance.now();
      const before = this.deps.beforeCommit;
      let committed: Promise<unknown>;
      if (before) {
        this.gate = this.gate.then(before);
        committed = this.gate.then(() => this.deps.store.commit(w));
      } else committed = this.deps.store.commit(w);
      const committing = committed.then(
        () => {
          this.deps.onCommitted?.(batch.length, (performance.now() - handedOver) / 1000);
          this.overlay.release([...w.entities, ...w.erasedVersions], [...w.outcomes, ...w.outcomeUpdates]);
          if (this.deps.onStored) {
            for (const o of w.outcomes) this.deps.onStored(o, false);
            for (const o of w.outcomeUpdates) this.deps.onStored(o, true);
          }
          if (this.deps.onDurable) for (const { row } of w.records) this.deps.onDurable(row.tenant, row.scroll, row.index + 1);
          this.deps.directory.apply(w.entities);
          this.deps.onApplied?.(w.entities);
          this.stats.batches++;
          this.stats.commands += batch.length;
          this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
          batch.forEach((unit, i) => unit.resolve(replies[i]));
        },
        (err) => {
          this.failBatch(batch, err);
          this.startRecovery();
        },
      );
      this.inFlight.add(committing);
      void committing.finally(() => this.inFlight.delete(committing));
      await this.turns?.yield(this.queue.length === 0);
    }
  }

  private startRecovery(): void {
    this.epoch++;
    if (this.recovering) return;
    this.recovering = (async () => {
      // Every batch submitted so far is refused by the store now; wait until all have settled.
      await this.settled();
      // A failure ends the write turn: the next one starts from the database's state.
      await this.turns?.yield(true).catch(() => undefined);
      this.gate = Promise.resolve();
      this.overlay.clear();
      await this.sequencer.load(this.deps.store);
      await this.deps.store.recover();
    })()
      .catch((err) => logError('recovery after a failed commit failed', err))
      .finally(() => {
        this.recovering = null;
      });
  }

  private failBatch(batch: readonly Unit[], err: unknown): void {
    logError('a batch could not be committed durably; its commands were answered UNAVAILABLE', err, { commands: batch.length });
    const failure = new WritError('UNAVAILABLE', 'the store could not make this command durable; retry with the same requestId to learn its outcome', { retryAfter: 1, cause: err });
    for (const unit of batch) unit.resolve(toReply(errorAnswer(failure, unit.ctx.envelope.requestId, unit.ctx.commandHash), 1));
  }

  private async getOutcome(tenant: string, actor: string, requestId: string): Promise<StoredOutcome | null> {
    const pending = this.overlay.outcome(tenant, actor, requestId);
    if (pending) return pending;
    if (this.deps.mayHaveOutcome && !this.deps.mayHaveOutcome(tenant, actor, requestId)) return null;
    return this.deps.store.getOutcome(tenant, actor, requestId);
  }

  private async getEntity(tenant: string, type: string, id: string): Promise<EntityRow | null> {
    return this.overlay.entity(tenant, type, id) ?? (await this.deps.store.getEntity(tenant, type, id));
  }

  private async process(unit: Unit, w: Writes): Promise<Reply> {
    // A follow-up is processed inside the unit that caused it, at the same time.
    if (this.unitNow !== null) return this.processAt(unit, w);
    this.unitNow = this.deps.now();
    try {
      return await this.processAt(unit, w);
    } finally {
      this.unitNow = null;
    }
  }

  private async processAt(unit: Unit, w: Writes): Promise<Reply> {
    const { ctx } = unit;
    let error = unit.error;
    if (ctx.ownsKey) {
      // The first command of this key may have been applied after authenticate looked it up.
      const { tenant, actor, requestId } = ctx.envelope;
      const stored = await this.getOutcome(tenant, actor, requestId);
      if (stored) {
        if (stored.commandHash === ctx.commandHash) return replayOf(stored);
        // ownsKey stays true so that the pipeline releases this context's in-flight claim; the
        // stored outcome is kept, as the store keeps the first outcome of a key.
        error = new WritError('IDEMPOTENCY_KEY_REUSED', `requestId ${JSON.stringify(requestId)} was already used for another command`);
      }
    }
    // Beside other processes, authentication may have used a key registry older than this turn's
    // (another process revoked the key since): the key is checked again against the current one.
    if (!error && this.turns && ctx.auth.method === 'signature' && ctx.auth.keyId && ctx.envelope.signature) {
      try {
        this.deps.directory.usableKey(ctx.envelope.tenant, ctx.auth.keyId, ctx.envelope.actor, ctx.envelope.signature.alg, this.deps.now());
      } catch (err) {
        error = toWritError(err);
      }
    }
    if (!error) {
      let plan: EffectPlan | undefined;
      let current: EntityRow | null = null;
      let erasures: Erasure[] | undefined;
      try {
        // A role, key or flag changed since this command was authorized counts (authority.ts).
        if (!['system', 'held', 'replay'].includes(ctx.auth.method) && authorityChanged(this.overlay, this.deps.directory, ctx)) await this.settleDeps.recheck(ctx);
        current = await this.getEntity(ctx.envelope.tenant, ctx.target!.type, ctx.target!.id);
        // A held command is planned too (and not written): one that cannot run now is refused at
        // once rather than put to approvers. It is planned again, against the state of then, when it runs.
        const planned = await this.plan(ctx, current);
        if (planned.redactions?.length && !ctx.hold) erasures = await this.planErasures(ctx.envelope.tenant, planned.redactions);
        plan = planned;
      } catch (err) {
        // The store could not be read (a database that is away): refuse the batch, record nothing.
        if (err instanceof WritError && err.code === 'UNAVAILABLE') throw err;
        error = toWritError(err);
        if (!(err instanceof WritError)) logError('effect failed; the command is recorded as INTERNAL', err, { action: ctx.envelope.action, requestId: ctx.envelope.requestId });
      }
      // A decision on a held command is never held itself (a policy annotating one is refused), so
      // that every held command ends through one decision that is applied.
      if (plan?.settle && ctx.hold) error = new WritError('FORBIDDEN', `${ctx.action!.name} decides on a held command and cannot itself wait for approval; remove the @approval annotation from the permit that allows it (${ctx.hold.requirement.policy})`);
      else if (plan) {
        try {
          return await this.write(w, ctx, plan, current, erasures);
        } catch (err) {
          // A leaf is built before any write of its unit is added (settling writes two units: not caught).
          if (!(err instanceof RecordTooLarge) || plan.settle) throw err;
          error = err;
        }
      }
    }
    let reply: Reply;
    try {
      reply = this.writer.rejection(w, ctx, error!);
    } catch (err) {
      if (!(err instanceof RecordTooLarge)) throw err;
      // No record of this command can be built (intake's field bounds make this unreachable for a
      // well-formed envelope): it is answered like a refusal before authentication, and not written.
      return toReply(errorAnswer(err, ctx.envelope.requestId, ctx.commandHash));
    }
    if (error instanceof RefusalWithFollowUp) await this.followUp(w, ctx.envelope.tenant, error.followUp);
    return reply;
  }

  /** Writes a planned command: held for approval (PENDING), ending a held one, or applied. */
  private async write(w: Writes, ctx: CommandContext, plan: EffectPlan, current: EntityRow | null, erasures?: Erasure[]): Promise<Reply> {
    if (ctx.hold) return holdCommand(this.writer, w, ctx, this.deps.now());
    if (plan.settle) return settleHeld(this.settleDeps, w, ctx, plan, current);
    const start = w.redactions.length;
    const reply = await this.writer.success(w, ctx, plan, current);
    if (erasures) writeErasures(w, this.overlay, start, erasures);
    return reply;
  }

  /** What writ.Redact erases besides the bodies (erasure.ts), planned against the committed state and the batches in flight. */
  private async planErasures(tenant: string, entries: NonNullable<EffectPlan['redactions']>): Promise<Erasure[]> {
    const deps = { store: this.deps.store, catalog: this.deps.catalog, inFlight: (t: string, type: string, id: string) => this.overlay.entity(t, type, id) };
    const out: Erasure[] = [];
    for (const e of entries) out.push(await planErasure(deps, tenant, e.scroll, e.index));
    return out;
  }

  /**
   * A refusal noticed a deadline had passed (a decision after a held command's TTL, a landing past
   * the airlock's ceiling): right after it, writ applies the expiry or revert on its own authority,
   * in the same batch, with the requestId the sweeper would use (so whichever comes second is
   * answered from the stored outcome or refused, never applied twice).
   */
  private async followUp(w: Writes, tenant: string, f: FollowUp): Promise<void> {
    const ctx = systemContext(tenant, f.action, f.payload, f.requestId, this.deps.now());
    ctx.action = this.deps.catalog.get(f.action);
    if (!ctx.action) return;
    ctx.target = this.deps.catalog.target(ctx.action, f.payload, undefined);
    ctx.ownsKey = true;
    await this.process({ ctx, resolve: () => undefined }, w);
  }

  private plan(ctx: CommandContext, current: EntityRow | null): Promise<EffectPlan> {
    return planCommand(this.planDeps, ctx, current);
  }
}
