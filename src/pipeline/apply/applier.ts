import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import { CODES } from '../../core/codes.js';
import { WritError, toWritError } from '../../core/errors.js';
import { sha256Hex, ZERO_HASH } from '../../core/hash.js';
import { uuidv7 } from '../../core/uuid7.js';
import { encodeRecord, originOf, type LedgerRecord } from '../../ledger/record.js';
import type { Directory } from '../../state/directory.js';
import type { EntityRow, Store, StoredOutcome, WriteBatch } from '../../store/port.js';
import { Overlay } from './overlay.js';
import type { CommandContext, Reply } from '../context.js';
import { replayOf } from '../idempotency/idempotency.js';
import { errorAnswer, okAnswer, toReply } from '../reply.js';
import { logError } from '../../util/log.js';

export interface ApplierDeps {
  readonly store: Store;
  readonly catalog: Catalog;
  readonly directory: Directory;
  readonly originPrefix: string;
  readonly maxBatch: number;
  /** False when a key certainly has no stored outcome (see KnownKeys); absent: ask the store. */
  readonly mayHaveOutcome?: (tenant: string, actor: string, requestId: string) => boolean;
  /** Told of every outcome once it is durable. */
  readonly onStored?: (outcome: StoredOutcome) => void;
  /** Told, after each commit, of every log that grew: it now holds `size` durable records. */
  readonly onDurable?: (tenant: string, scroll: string, size: number) => void;
  /** Expiry to persist with a checked nonce. */
  readonly nonceExpiry: (ctx: CommandContext) => number;
  readonly now: () => number;
}

type Unit = { readonly ctx: CommandContext; readonly error?: WritError; readonly resolve: (reply: Reply) => void };

interface Head {
  size: number;
  last: string;
}

export interface ApplyStats {
  batches: number;
  commands: number;
  largestBatch: number;
}

/** A batch's writes, gathered while it is planned. */
type Writes = { readonly [K in keyof WriteBatch]-?: Array<NonNullable<WriteBatch[K]>[number]> };

/** Batches handed to the store and not yet settled; planning runs at most this far ahead. */
export const MAX_BATCHES_IN_FLIGHT = 2;

/**
 * The apply stage and the log sequencer. Each command becomes ONE unit of a group-committed
 * transaction: expected-version check, effect, entity versions, ledger record (hash-chained by
 * `prev`), outbox event, stored outcome and nonce. Every caller is answered only after its batch is
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
  private readonly heads = new Map<string, Head>();
  private readonly overlay = new Overlay();
  private readonly inFlight = new Set<Promise<unknown>>();
  private recovering: Promise<void> | null = null;
  /** Bumped by every failure: a batch planned across one is not submitted. */
  private epoch = 0;
  readonly stats: ApplyStats = { batches: 0, commands: 0, largestBatch: 0 };

  private constructor(private readonly deps: ApplierDeps) {}

  static async open(deps: ApplierDeps): Promise<Applier> {
    const a = new Applier(deps);
    await a.loadHeads();
    return a;
  }

  private async loadHeads(): Promise<void> {
    this.heads.clear();
    for (const h of await this.deps.store.logHeads()) this.heads.set(`${h.tenant}\n${h.scroll}`, { size: h.size, last: h.lastLeafHash });
  }

  get pending(): number {
    return this.queue.length + this.inFlight.size;
  }

  /** Sizes of all logs, for status pages. */
  logSizes(): Array<{ tenant: string; scroll: string; size: number }> {
    return [...this.heads].map(([k, h]) => {
      const [tenant, scroll] = k.split('\n');
      return { tenant, scroll, size: h.size };
    });
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
    while (this.queue.length > 0) {
      if (this.recovering) await this.recovering;
      while (this.inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(this.inFlight);
      const batch = this.queue.splice(0, this.deps.maxBatch);
      const epoch = this.epoch;
      const w: Writes = { entities: [], records: [], outbox: [], outcomes: [], nonces: [], redactions: [] };
      const replies: Reply[] = [];
      try {
        for (const unit of batch) replies.push(await this.process(unit, w));
      } catch (err) {
        this.failBatch(batch, err);
        this.startRecovery();
        continue;
      }
      if (epoch !== this.epoch) {
        this.failBatch(batch, new Error('a batch committed before this one failed'));
        continue;
      }
      const committing = this.deps.store.commit(w).then(
        () => {
          this.overlay.release(w.entities, w.outcomes);
          if (this.deps.onStored) for (const o of w.outcomes) this.deps.onStored(o);
          if (this.deps.onDurable) for (const { row } of w.records) this.deps.onDurable(row.tenant, row.scroll, row.index + 1);
          this.deps.directory.apply(w.entities);
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
    }
    this.draining = false;
  }

  private startRecovery(): void {
    this.epoch++;
    if (this.recovering) return;
    this.recovering = (async () => {
      // Every batch submitted so far is refused by the store now; wait until all have settled.
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      this.overlay.clear();
      await this.loadHeads();
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
    if (!error) {
      let plan: EffectPlan | undefined;
      let current: EntityRow | null = null;
      try {
        current = await this.getEntity(ctx.envelope.tenant, ctx.target!.type, ctx.target!.id);
        plan = await this.plan(ctx, current);
      } catch (err) {
        error = toWritError(err);
        if (!(err instanceof WritError)) logError('effect failed; the command is recorded as INTERNAL', err, { action: ctx.envelope.action, requestId: ctx.envelope.requestId });
      }
      if (plan) return this.writeSuccess(w, ctx, plan, current);
    }
    return this.writeRejection(w, ctx, error!);
  }

  private async plan(ctx: CommandContext, current: EntityRow | null): Promise<EffectPlan> {
    const env = ctx.envelope;
    const version = current?.version ?? 0;
    if (env.expectedVersion !== undefined && env.expectedVersion !== version) {
      throw new WritError('VERSION_CONFLICT', `${ctx.target!.type} ${JSON.stringify(ctx.target!.id)} is at version ${version}, not ${env.expectedVersion}`, {
        details: { current: version, expected: env.expectedVersion },
      });
    }
    return this.deps.catalog.handler(ctx.action!.name)({
      envelope: env,
      payload: env.payload,
      target: ctx.target!,
      current,
      now: new Date(this.deps.now()).toISOString(),
      get: (type, id) => this.getEntity(env.tenant, type, id),
      configuredKey: (keyId) => this.deps.directory.configured(env.tenant, keyId),
      recordExists: async (scroll, index) => (await this.deps.store.readLedger(env.tenant, scroll, index, 1))[0]?.index === index,
    });
  }

  private next(tenant: string, scroll: string): Head {
    const key = `${tenant}\n${scroll}`;
    let head = this.heads.get(key);
    if (!head) {
      head = { size: 0, last: ZERO_HASH };
      this.heads.set(key, head);
    }
    return head;
  }

  private append(w: Writes, ctx: CommandContext, fields: Pick<LedgerRecord, 'outcome' | 'code' | 'target' | 'version' | 'resultHash' | 'scroll'>, ts: string) {
    const env = ctx.envelope;
    const head = this.next(env.tenant, fields.scroll);
    const record: LedgerRecord = {
      v: 1,
      index: head.size,
      ts,
      tenant: env.tenant,
      scroll: fields.scroll,
      actor: env.actor,
      action: env.action,
      requestId: env.requestId,
      commandHash: ctx.commandHash,
      outcome: fields.outcome,
      code: fields.code,
      target: fields.target,
      version: fields.version,
      resultHash: fields.resultHash,
      prev: head.last,
    };
    const { leaf, leafHash } = encodeRecord(record);
    w.records.push({
      row: { tenant: env.tenant, scroll: fields.scroll, index: record.index, leaf, leafHash, requestId: env.requestId, actor: env.actor, commandHash: ctx.commandHash, outcome: record.outcome, code: record.code },
      envelope:
      ctx.auth.method === 'signature' || ctx.auth.method === 'stored' ? Buffer.from(ctx.submission.body.buffer, ctx.submission.body.byteOffset, ctx.submission.body.byteLength).toString('utf8') : JSON.stringify(env),
    });
    head.size++;
    head.last = leafHash;
    if (ctx.nonceChecked) w.nonces.push({ tenant: env.tenant, actor: env.actor, nonce: env.nonce, commandHash: ctx.commandHash, expiresAt: this.deps.nonceExpiry(ctx) });
    return { record, receipt: { log: originOf(this.deps.originPrefix, env.tenant, fields.scroll), index: record.index, leafHash } };
  }

  private async writeSuccess(w: Writes, ctx: CommandContext, plan: EffectPlan, current: EntityRow | null): Promise<Reply> {
    const env = ctx.envelope;
    const action = ctx.action!;
    const nowMs = this.deps.now();
    const ts = new Date(nowMs).toISOString();
    const rows: EntityRow[] = [];
    let targetRow: EntityRow | undefined;
    const head = this.next(env.tenant, action.scroll);
    for (const write of plan.writes) {
      const isTarget = write.type === ctx.target!.type && write.id === ctx.target!.id;
      // The target was read for the version check; other entities are read here.
      const cur = isTarget ? current : await this.getEntity(env.tenant, write.type, write.id);
      const row: EntityRow = {
        tenant: env.tenant,
        type: write.type,
        id: write.id,
        version: (cur?.version ?? 0) + 1,
        doc: write.deleted ? null : write.doc,
        deleted: write.deleted === true,
        updatedAt: ts,
        updatedBy: env.actor,
        scroll: action.scroll,
        index: head.size,
      };
      rows.push(row);
      if (isTarget) targetRow = row;
    }
    const target = `${ctx.target!.type}/${ctx.target!.id}`;
    const result = plan.result ?? null;
    const { record, receipt } = this.append(w, ctx, { scroll: action.scroll, outcome: 'OK', code: null, target, version: targetRow?.version ?? null, resultHash: sha256Hex(jcs(result)) }, ts);
    for (const row of rows) {
      w.entities.push(row);
      this.overlay.putEntity(row);
    }
    w.outbox.push({
      id: uuidv7(nowMs),
      tenant: env.tenant,
      scroll: action.scroll,
      index: record.index,
      action: action.name,
      target,
      version: record.version,
      type: action.event,
      data: { actor: env.actor, requestId: env.requestId, result, doc: targetRow ? targetRow.doc : null },
      ts,
    });
    for (const r of plan.redactions ?? []) w.redactions.push({ tenant: env.tenant, scroll: r.scroll, index: r.index, redactedAt: ts, redactedBy: env.actor, reason: r.reason });
    const body = JSON.stringify(okAnswer(env.requestId, ctx.commandHash, result, receipt));
    this.storeOutcome(w, ctx, 200, body, nowMs, record);
    return { httpStatus: 200, body, replayed: false };
  }

  private writeRejection(w: Writes, ctx: CommandContext, error: WritError): Reply {
    const env = ctx.envelope;
    const nowMs = this.deps.now();
    const scroll = ctx.action?.scroll ?? this.deps.catalog.get(env.action)?.scroll ?? 'writ';
    const target = ctx.target ? `${ctx.target.type}/${ctx.target.id}` : (env.target ?? null);
    const { record, receipt } = this.append(w, ctx, { scroll, outcome: 'REJECTED', code: error.code, target, version: null, resultHash: null }, new Date(nowMs).toISOString());
    const reply = toReply(errorAnswer(error, env.requestId, ctx.commandHash, receipt), error.retryAfter);
    if (!CODES[error.code].transient) this.storeOutcome(w, ctx, reply.httpStatus, reply.body, nowMs, record);
    return reply;
  }

  /** Only the holder of the key's in-flight claim stores an outcome, so the first outcome of a key wins. */
  private storeOutcome(w: Writes, ctx: CommandContext, httpStatus: number, body: string, nowMs: number, record: LedgerRecord): void {
    if (!ctx.ownsKey) return;
    const env = ctx.envelope;
    const outcome: StoredOutcome = {
      tenant: env.tenant,
      actor: env.actor,
      requestId: env.requestId,
      commandHash: ctx.commandHash,
      sigDigest: ctx.auth.sigDigest,
      httpStatus,
      response: body,
      createdAt: nowMs,
      scroll: record.scroll,
      index: record.index,
    };
    w.outcomes.push(outcome);
    this.overlay.putOutcome(outcome);
  }
}
