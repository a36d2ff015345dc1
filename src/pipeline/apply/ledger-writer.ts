import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { jcs } from '../../canonical/jcs.js';
import { CODES } from '../../core/codes.js';
import type { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import { uuidv7 } from '../../core/uuid7.js';
import { originOf, type LedgerRecord } from '../../ledger/record.js';
import type { Sequencer } from '../../ledger/sequencer.js';
import { DEPLOYMENT_SCOPE } from '../../state/scope.js';
import type { EntityRow, StoredOutcome, WriteBatch } from '../../store/port.js';
import type { CommandContext, Receipt, Reply } from '../context.js';
import { errorAnswer, okAnswer, toReply } from '../reply.js';
import type { Overlay } from './overlay.js';

/** A batch's writes, gathered while it is planned. */
export type Writes = { readonly [K in keyof WriteBatch]-?: Array<NonNullable<WriteBatch[K]>[number]> };

export function newWrites(): Writes {
  return { entities: [], records: [], outbox: [], outcomes: [], outcomeUpdates: [], nonces: [], redactions: [], erasedVersions: [] };
}

export interface LedgerWriterDeps {
  readonly catalog: Catalog;
  readonly originPrefix: string;
  /** Expiry to persist with a checked nonce. */
  readonly nonceExpiry: (ctx: CommandContext) => number;
  readonly now: () => number;
}

/** How the outcome of a command is stored. */
export interface OutcomeOptions {
  /** Replace the stored outcome of the key (a held command's final answer) instead of keeping the first. */
  readonly replace?: boolean;
  /** Added to the answer as `approval`. */
  readonly approval?: Readonly<Record<string, unknown>>;
}

type RecordFields = Pick<LedgerRecord, 'outcome' | 'code' | 'target' | 'version' | 'resultHash' | 'scroll'>;

/**
 * The writer of one command's unit in a batch: entity versions, the ledger record (placed in its
 * log by the sequencer, src/ledger/sequencer.ts), the outbox event, the stored outcome and the
 * nonce. Entity versions and outcomes also go to the overlay, so that the next commands planned see
 * them.
 */
export class LedgerWriter {
  constructor(
    private readonly deps: LedgerWriterDeps,
    readonly sequencer: Sequencer,
    private readonly overlay: Overlay,
    private readonly read: (tenant: string, type: string, id: string) => Promise<EntityRow | null>,
  ) {}

  /** Appends the command's ledger record to its log, with its body and (when checked) its nonce. */
  append(w: Writes, ctx: CommandContext, fields: RecordFields, ts: string): { record: LedgerRecord; receipt: Receipt } {
    const env = ctx.envelope;
    const envelope = this.storedBody(ctx);
    const { record, row } = this.sequencer.next({ ts, tenant: env.tenant, actor: env.actor, action: env.action, requestId: env.requestId, commandHash: ctx.commandHash, ...fields });
    w.records.push({ row, envelope });
    if (ctx.nonceChecked) w.nonces.push({ tenant: env.tenant, actor: env.actor, nonce: env.nonce, commandHash: ctx.commandHash, expiresAt: this.deps.nonceExpiry(ctx) });
    return { record, receipt: { log: originOf(this.deps.originPrefix, env.tenant, fields.scroll), index: record.index, leafHash: row.leafHash } };
  }

  /** The command body kept beside the leaf: the bytes received when signed, without secret fields. */
  private storedBody(ctx: CommandContext): string {
    const env = ctx.envelope;
    const secret = (ctx.action ?? this.deps.catalog.get(env.action))?.secretFields?.filter((f) => Object.hasOwn(env.payload, f));
    if (secret?.length) return JSON.stringify({ ...env, payload: { ...env.payload, ...Object.fromEntries(secret.map((f) => [f, '[withheld]'])) } });
    const body = ctx.submission.body;
    return ctx.auth.method === 'signature' || ctx.auth.method === 'stored' ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : JSON.stringify(env);
  }

  /**
   * The entity versions of `writes`, as written by the record about to be appended to `scroll`
   * (each one version above the entity's current one, `current` being the target's, already read).
   */
  async entityRows(ctx: CommandContext, writes: EffectPlan['writes'], scroll: string, current: EntityRow | null, ts: string): Promise<EntityRow[]> {
    const env = ctx.envelope;
    const index = this.sequencer.peek(env.tenant, scroll);
    const rows: EntityRow[] = [];
    for (const write of writes) {
      // A deployment-scope row names the record that wrote it by scroll and index in the command's tenant.
      const tenant = write.scope === 'deployment' ? DEPLOYMENT_SCOPE : env.tenant;
      const isTarget = tenant === env.tenant && write.type === ctx.target!.type && write.id === ctx.target!.id;
      const cur = isTarget ? current : await this.read(tenant, write.type, write.id);
      rows.push({
        tenant,
        type: write.type,
        id: write.id,
        version: (cur?.version ?? 0) + 1,
        doc: write.deleted ? null : write.doc,
        deleted: write.deleted === true,
        updatedAt: ts,
        updatedBy: env.actor,
        scroll,
        index,
      });
    }
    return rows;
  }

  putEntities(w: Writes, rows: readonly EntityRow[]): void {
    for (const row of rows) {
      w.entities.push(row);
      this.overlay.putEntity(row);
    }
  }

  /** An applied command: its entity versions, OK record, outbox event, redactions and outcome. */
  async success(w: Writes, ctx: CommandContext, plan: EffectPlan, current: EntityRow | null, options: OutcomeOptions = {}): Promise<Reply> {
    const env = ctx.envelope;
    const action = ctx.action!;
    const nowMs = this.deps.now();
    const ts = new Date(nowMs).toISOString();
    // A handler may choose a scroll of its action's own (checked by planCommand).
    const scroll = plan.scroll ?? action.scroll;
    const rows = await this.entityRows(ctx, plan.writes, scroll, current, ts);
    const targetRow = rows.find((r) => r.tenant === env.tenant && r.type === ctx.target!.type && r.id === ctx.target!.id);
    const target = `${ctx.target!.type}/${ctx.target!.id}`;
    const result = plan.result ?? null;
    const { record, receipt } = this.append(w, ctx, { scroll, outcome: 'OK', code: null, target, version: targetRow?.version ?? null, resultHash: sha256Hex(jcs(result)) }, ts);
    this.putEntities(w, rows);
    this.event(w, ctx, record, action.event, { actor: env.actor, requestId: env.requestId, result, doc: targetRow ? targetRow.doc : null }, nowMs);
    for (const r of plan.redactions ?? []) w.redactions.push({ tenant: env.tenant, scroll: r.scroll, index: r.index, redactedAt: ts, redactedBy: env.actor, reason: r.reason });
    const answer = okAnswer(env.requestId, ctx.commandHash, result, receipt);
    const body = JSON.stringify(options.approval ? { ...answer, approval: options.approval } : answer);
    this.storeOutcome(w, ctx, 200, body, nowMs, record, options.replace === true);
    // What the plan reveals reaches this answer only (EffectPlan.reveal).
    const live = plan.reveal ? JSON.stringify({ ...JSON.parse(body), result: { ...(result as object), ...plan.reveal } }) : body;
    return { httpStatus: 200, body: live, replayed: false };
  }

  /** A refused command: its REJECTED record, and its outcome unless the code is transient. */
  /** The outbox event of a command's record (DESIGN §7), written in the same transaction. */
  event(w: Writes, ctx: CommandContext, record: LedgerRecord, type: string, data: unknown, nowMs: number): void {
    w.outbox.push({
      id: uuidv7(nowMs),
      tenant: record.tenant,
      scroll: record.scroll,
      index: record.index,
      action: ctx.action!.name,
      target: record.target,
      version: record.version,
      type,
      data,
      ts: record.ts,
    });
  }

  rejection(w: Writes, ctx: CommandContext, error: WritError, options: OutcomeOptions = {}): Reply {
    const env = ctx.envelope;
    const nowMs = this.deps.now();
    const scroll = ctx.action?.scroll ?? this.deps.catalog.get(env.action)?.scroll ?? 'writ';
    const target = ctx.target ? `${ctx.target.type}/${ctx.target.id}` : (env.target ?? null);
    const { record, receipt } = this.append(w, ctx, { scroll, outcome: 'REJECTED', code: error.code, target, version: null, resultHash: null }, new Date(nowMs).toISOString());
    const answer = errorAnswer(error, env.requestId, ctx.commandHash, receipt);
    const reply = toReply(options.approval ? { ...answer, approval: options.approval } : answer, error.retryAfter);
    // A held command's end is final even when its code is transient: nothing will run it again.
    if (!CODES[error.code].transient || options.replace) this.storeOutcome(w, ctx, reply.httpStatus, reply.body, nowMs, record, options.replace === true);
    return reply;
  }

  /**
   * Only the holder of the key's in-flight claim stores an outcome, so the first outcome of a key
   * wins; `replace` overwrites it (the final answer of a command held for approval).
   */
  storeOutcome(w: Writes, ctx: CommandContext, httpStatus: number, body: string, nowMs: number, record: LedgerRecord, replace = false): void {
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
    if (replace) {
      w.outcomeUpdates.push(outcome);
      this.overlay.replaceOutcome(outcome);
    } else {
      w.outcomes.push(outcome);
      this.overlay.putOutcome(outcome);
    }
  }
}
