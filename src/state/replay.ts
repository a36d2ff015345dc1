import { APPROVAL_TYPE, type ApprovalDoc, type HoldRequest } from '../approvals/pending.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Code } from '../core/codes.js';
import type { Envelope } from '../core/envelope.js';
import { WritError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { LedgerRecord } from '../ledger/record.js';
import { LogSequencer } from '../ledger/sequencer.js';
import type { CommandContext } from '../pipeline/context.js';
import { holdCommand } from '../pipeline/apply/held.js';
import { LedgerWriter, newWrites } from '../pipeline/apply/ledger-writer.js';
import { Overlay } from '../pipeline/apply/overlay.js';
import { planCommand, type PlanDeps } from '../pipeline/apply/plan.js';
import { settleHeld, type SettleDeps } from '../pipeline/apply/settle.js';
import type { EntityRow } from '../store/port.js';

/** One stored ledger record, parsed, with its command body when that can be replayed. */
export interface StoredRecord {
  readonly record: LedgerRecord;
  readonly leaf: Buffer;
  /** The stored body, parsed; null when it cannot be replayed (redacted, secret fields withheld, or bad). */
  readonly envelope: Envelope | null;
}

export interface ReplayDeps {
  readonly catalog: Catalog;
  readonly originPrefix: string;
  /** The actor of a key configured in auth.hmacKeys, as the applier's directory answers it. */
  readonly configuredKey: (tenant: string, keyId: string) => { readonly actor: string } | undefined;
  /** Whether the tenant's log `scroll` holds a record at `index`. */
  readonly recordExists: (tenant: string, scroll: string, index: number) => boolean;
  /** The record that ended the held command whose PENDING record is (tenant, scroll, index), if it has ended. */
  readonly finalOf: (tenant: string, scroll: string, index: number) => StoredRecord | undefined;
}

/** What replaying one record wrote: its record (and, for a decision that ended a held command, that command's final record) and entity versions. */
export interface ReplayedUnit {
  readonly records: ReadonlyArray<{ readonly tenant: string; readonly scroll: string; readonly index: number; readonly leaf: Buffer }>;
  readonly entities: readonly EntityRow[];
}

/**
 * Entity state recomputed from the ledger: stored commands are fed in commit order and re-run
 * through the applier's own code (planCommand, LedgerWriter, holdCommand, settleHeld), each at the
 * time of its record, against the state this projection has built so far. What comes out — every
 * entity version and the record's exact leaf bytes — is what the applier wrote if the database was
 * left alone. `writ verify` compares it with the store; a rebuild of the state can take it as is.
 *
 * Not re-decided: authentication, freshness, policy and flags (they depend on keys, clocks and
 * policies of the time); a held command's re-check at settlement takes the verdict its final record
 * holds. A record whose body cannot be replayed is taken as given through `accept`.
 */
export class Projection {
  private readonly state = new Overlay();
  private readonly writer: LedgerWriter;
  private readonly plan: PlanDeps;
  private nowMs = 0;

  constructor(private readonly deps: ReplayDeps) {
    const now = () => this.nowMs;
    const read = async (tenant: string, type: string, id: string) => this.entity(tenant, type, id);
    this.writer = new LedgerWriter({ catalog: deps.catalog, originPrefix: deps.originPrefix, nonceExpiry: () => 0, now }, new LogSequencer(), this.state, read);
    this.plan = { catalog: deps.catalog, now, read, configuredKey: deps.configuredKey, recordExists: async (t, s, i) => deps.recordExists(t, s, i) };
  }

  /** The current version of an entity in the projection (a tombstone included), or null. */
  entity(tenant: string, type: string, id: string): EntityRow | null {
    return this.state.entity(tenant, type, id) ?? null;
  }

  /** Takes entity versions as given: those a record wrote whose body cannot be replayed. */
  accept(rows: readonly EntityRow[]): void {
    for (const row of rows) {
      const cur = this.entity(row.tenant, row.type, row.id);
      if (!cur || cur.version < row.version) this.state.putEntity(row);
    }
  }

  /** Takes stored versions in place of those the replay of their record wrote (versions taken as erased, src/ledger/verify/state.ts). */
  replace(rows: readonly EntityRow[]): void {
    for (const row of rows) {
      const cur = this.entity(row.tenant, row.type, row.id);
      if (!cur || cur.version <= row.version) this.state.putEntity(row);
    }
  }

  /**
   * Re-runs a stored OK or PENDING record (with its envelope). `hold` is the approval a PENDING
   * record was held under (its id, requirement and deadline, which its resultHash commits to).
   * Throws a WritError when the command does not apply to the state the ledger implies.
   */
  async replay(stored: StoredRecord, hold?: HoldRequest): Promise<ReplayedUnit> {
    const { record } = stored;
    this.nowMs = Date.parse(record.ts);
    const ctx = this.context(stored.envelope!, record);
    this.writer.sequencer.seek({ tenant: record.tenant, scroll: record.scroll, size: record.index, lastLeafHash: record.prev });
    const w = newWrites();
    if (record.outcome === 'PENDING') {
      if (!hold) throw new WritError('LEDGER_INCONSISTENT', 'no approval entity was written with this PENDING record');
      ctx.hold = hold;
      await holdCommand(this.writer, w, ctx, this.nowMs);
    } else {
      const current = this.entity(record.tenant, ctx.target!.type, ctx.target!.id);
      const plan = await planCommand(this.plan, ctx, current);
      if (plan.settle) await settleHeld(this.settleDeps(record, plan.settle.approvalId), w, ctx, plan, current);
      else await this.writer.success(w, ctx, plan, current);
    }
    // Answers are checked against the records by the verifier; the projection keeps only state.
    this.state.release([], [...w.outcomes, ...w.outcomeUpdates]);
    return { records: w.records.map(({ row }) => ({ tenant: row.tenant, scroll: row.scroll, index: row.index, leaf: row.leaf })), entities: w.entities };
  }

  /** Settlement as the applier does it, with the held command's record placed and its re-check's verdict taken from the ledger. */
  private settleDeps(decision: LedgerRecord, approvalId: string): SettleDeps {
    const { tenant } = decision;
    const doc = this.entity(tenant, APPROVAL_TYPE, approvalId)?.doc as ApprovalDoc | undefined;
    const final = doc?.pending ? this.deps.finalOf(tenant, doc.pending.scroll, doc.pending.index) : undefined;
    if (!final) throw new WritError('LEDGER_INCONSISTENT', `approval ${approvalId} ends here, but its held command has no final record`);
    // In the decision's own log the final record follows the decision's (one batch, one after the
    // other), where the head stands after it; in another log it is placed.
    if (final.record.scroll !== decision.scroll) this.writer.sequencer.seek({ tenant, scroll: final.record.scroll, size: final.record.index, lastLeafHash: final.record.prev });
    const verdict = final.record.outcome === 'REJECTED' ? new WritError(final.record.code as Code, 'refused when it was to run, as its record says') : null;
    return {
      writer: this.writer,
      catalog: this.deps.catalog,
      now: this.plan.now,
      read: this.plan.read,
      plan: (c, current) => planCommand(this.plan, c, current),
      recheck: async () => {
        if (verdict) throw verdict;
      },
    };
  }

  private context(env: Envelope, record: LedgerRecord): CommandContext {
    const action = this.deps.catalog.get(env.action);
    if (!action) throw new WritError('UNKNOWN_ACTION', `the catalog has no action ${JSON.stringify(env.action)} any more`);
    // The canonical bytes are not read when a command is applied (its commandHash is the record's,
    // which the caller has checked the body against), so they are not computed again.
    const canonical = Buffer.alloc(0);
    return {
      submission: { body: canonical, receivedAt: this.nowMs },
      envelope: env,
      canonical,
      commandHash: record.commandHash,
      auth: { method: 'replay', keyId: env.signature?.keyId ?? null, sigDigest: env.signature ? sha256Hex(Buffer.from(env.signature.sig, 'base64')) : null },
      prior: null,
      nonceChecked: false,
      ownsKey: true,
      action,
      target: this.deps.catalog.target(action, env.payload, env.target),
      roles: [],
    };
  }
}
