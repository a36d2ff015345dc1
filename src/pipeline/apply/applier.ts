import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import { CODES } from '../../core/codes.js';
import { WritError, toWritError } from '../../core/errors.js';
import { sha256Hex, ZERO_HASH } from '../../core/hash.js';
import { uuidv7 } from '../../core/uuid7.js';
import { encodeRecord, originOf, type LedgerRecord } from '../../ledger/record.js';
import type { Directory } from '../../state/directory.js';
import type { EntityRow, Store, WriteTx } from '../../store/port.js';
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

/**
 * The apply stage and the log sequencer. Each command becomes ONE unit of a group-committed
 * transaction: expected-version check, effect, entity versions, ledger record (hash-chained by
 * `prev`), outbox event, stored outcome and nonce. Every caller is answered only after its batch is
 * durable. Authenticated rejections are units too: a ledger record with their code.
 */
export class Applier {
  private queue: Unit[] = [];
  private draining = false;
  private readonly heads = new Map<string, Head>();
  readonly stats: ApplyStats = { batches: 0, commands: 0, largestBatch: 0 };

  private constructor(private readonly deps: ApplierDeps) {}

  static async open(deps: ApplierDeps): Promise<Applier> {
    const a = new Applier(deps);
    for (const h of await deps.store.logHeads()) a.heads.set(`${h.tenant}\n${h.scroll}`, { size: h.size, last: h.lastLeafHash });
    return a;
  }

  get pending(): number {
    return this.queue.length;
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
      const batch = this.queue.splice(0, this.deps.maxBatch);
      const undo = new Map<string, Head | undefined>();
      const written: EntityRow[] = [];
      try {
        const { value: replies, durable } = await this.deps.store.transaction(async (tx) => {
          const out: Reply[] = [];
          for (const unit of batch) out.push(await this.process(tx, unit, undo, written));
          return out;
        });
        this.deps.directory.apply(written);
        this.stats.batches++;
        this.stats.commands += batch.length;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
        // The next batch is prepared while this one syncs; its callers hear back once it is durable.
        durable.then(
          () => batch.forEach((unit, i) => unit.resolve(replies[i])),
          (err) => this.failBatch(batch, err),
        );
      } catch (err) {
        for (const [key, head] of undo) {
          if (head) this.heads.set(key, head);
          else this.heads.delete(key);
        }
        this.failBatch(batch, err);
      }
    }
    this.draining = false;
  }

  private failBatch(batch: readonly Unit[], err: unknown): void {
    logError('a batch could not be committed durably; its commands were answered UNAVAILABLE', err, { commands: batch.length });
    const failure = new WritError('UNAVAILABLE', 'the store could not make this command durable; retry with the same requestId to learn its outcome', { retryAfter: 1, cause: err });
    for (const unit of batch) unit.resolve(toReply(errorAnswer(failure, unit.ctx.envelope.requestId, unit.ctx.commandHash), 1));
  }

  private async process(tx: WriteTx, unit: Unit, undo: Map<string, Head | undefined>, written: EntityRow[]): Promise<Reply> {
    const { ctx } = unit;
    let error = unit.error;
    if (ctx.ownsKey) {
      // The first command of this key may have committed after authenticate looked it up.
      const { tenant, actor, requestId } = ctx.envelope;
      const stored = await tx.getOutcome(tenant, actor, requestId);
      if (stored) {
        if (stored.commandHash === ctx.commandHash) return replayOf(stored);
        // ownsKey stays true so that the pipeline releases this context's in-flight claim (clearing
        // it here leaked the claim forever); the stored outcome is kept, as putOutcome keeps the first.
        error = new WritError('IDEMPOTENCY_KEY_REUSED', `requestId ${JSON.stringify(requestId)} was already used for another command`);
      }
    }
    if (!error) {
      let plan: EffectPlan | undefined;
      let current: EntityRow | null = null;
      try {
        current = await tx.getEntity(ctx.envelope.tenant, ctx.target!.type, ctx.target!.id);
        plan = await this.plan(tx, ctx, current);
      } catch (err) {
        error = toWritError(err);
        if (!(err instanceof WritError)) logError('effect failed; the command is recorded as INTERNAL', err, { action: ctx.envelope.action, requestId: ctx.envelope.requestId });
      }
      if (plan) return this.writeSuccess(tx, ctx, plan, current, undo, written);
    }
    return this.writeRejection(tx, ctx, error!, undo);
  }

  private async plan(tx: WriteTx, ctx: CommandContext, current: EntityRow | null): Promise<EffectPlan> {
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
      get: (type, id) => tx.getEntity(env.tenant, type, id),
      configuredKey: (keyId) => this.deps.directory.configured(env.tenant, keyId),
    });
  }

  private next(tenant: string, scroll: string, undo: Map<string, Head | undefined>): Head {
    const key = `${tenant}\n${scroll}`;
    let head = this.heads.get(key);
    if (!undo.has(key)) undo.set(key, head ? { ...head } : undefined);
    if (!head) {
      head = { size: 0, last: ZERO_HASH };
      this.heads.set(key, head);
    }
    return head;
  }

  private async append(tx: WriteTx, ctx: CommandContext, fields: Pick<LedgerRecord, 'outcome' | 'code' | 'target' | 'version' | 'resultHash' | 'scroll'>, ts: string, undo: Map<string, Head | undefined>) {
    const env = ctx.envelope;
    const head = this.next(env.tenant, fields.scroll, undo);
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
    await tx.appendLedger(
      { tenant: env.tenant, scroll: fields.scroll, index: record.index, leaf, leafHash, requestId: env.requestId, actor: env.actor, commandHash: ctx.commandHash, outcome: record.outcome, code: record.code },
      ctx.auth.method === 'signature' || ctx.auth.method === 'stored' ? Buffer.from(ctx.submission.body.buffer, ctx.submission.body.byteOffset, ctx.submission.body.byteLength).toString('utf8') : JSON.stringify(env),
    );
    head.size++;
    head.last = leafHash;
    if (ctx.nonceChecked) await tx.putNonce(env.tenant, env.actor, env.nonce, { commandHash: ctx.commandHash, expiresAt: this.deps.nonceExpiry(ctx) });
    return { record, receipt: { log: originOf(this.deps.originPrefix, env.tenant, fields.scroll), index: record.index, leafHash } };
  }

  private async writeSuccess(tx: WriteTx, ctx: CommandContext, plan: EffectPlan, current: EntityRow | null, undo: Map<string, Head | undefined>, written: EntityRow[]): Promise<Reply> {
    const env = ctx.envelope;
    const action = ctx.action!;
    const nowMs = this.deps.now();
    const ts = new Date(nowMs).toISOString();
    const rows: EntityRow[] = [];
    let targetRow: EntityRow | undefined;
    const head = this.next(env.tenant, action.scroll, undo);
    for (const w of plan.writes) {
      const isTarget = w.type === ctx.target!.type && w.id === ctx.target!.id;
      // The target was read for the version check; other entities are read here.
      const cur = isTarget ? current : await tx.getEntity(env.tenant, w.type, w.id);
      const row: EntityRow = {
        tenant: env.tenant,
        type: w.type,
        id: w.id,
        version: (cur?.version ?? 0) + 1,
        doc: w.deleted ? null : w.doc,
        deleted: w.deleted === true,
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
    const { record, receipt } = await this.append(
      tx,
      ctx,
      { scroll: action.scroll, outcome: 'OK', code: null, target, version: targetRow?.version ?? null, resultHash: sha256Hex(jcs(result)) },
      ts,
      undo,
    );
    for (const row of rows) await tx.putEntity(row);
    await tx.addOutbox({
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
    const body = JSON.stringify(okAnswer(env.requestId, ctx.commandHash, result, receipt));
    await this.storeOutcome(tx, ctx, 200, body, nowMs, record);
    written.push(...rows);
    return { httpStatus: 200, body, replayed: false };
  }

  private async writeRejection(tx: WriteTx, ctx: CommandContext, error: WritError, undo: Map<string, Head | undefined>): Promise<Reply> {
    const env = ctx.envelope;
    const nowMs = this.deps.now();
    const scroll = ctx.action?.scroll ?? this.deps.catalog.get(env.action)?.scroll ?? 'writ';
    const target = ctx.target ? `${ctx.target.type}/${ctx.target.id}` : (env.target ?? null);
    const { record, receipt } = await this.append(tx, ctx, { scroll, outcome: 'REJECTED', code: error.code, target, version: null, resultHash: null }, new Date(nowMs).toISOString(), undo);
    const reply = toReply(errorAnswer(error, env.requestId, ctx.commandHash, receipt), error.retryAfter);
    if (!CODES[error.code].transient) await this.storeOutcome(tx, ctx, reply.httpStatus, reply.body, nowMs, record);
    return reply;
  }

  /** Only the holder of the key's in-flight claim stores an outcome, so the first outcome of a key wins. */
  private async storeOutcome(tx: WriteTx, ctx: CommandContext, httpStatus: number, body: string, nowMs: number, record: LedgerRecord): Promise<void> {
    if (!ctx.ownsKey) return;
    const env = ctx.envelope;
    await tx.putOutcome({
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
    });
  }
}
