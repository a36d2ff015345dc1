import type { ValidateFunction } from 'ajv';
import type { Code } from '../core/codes.js';
import type { Envelope } from '../core/envelope.js';
import type { WriteScope } from '../state/scope.js';
import type { EntityRow } from '../store/port.js';

/** A declarative effect (DESIGN §4) or a named code handler of the action's pack. */
export type EffectSpec =
  | { readonly kind: 'upsert' }
  | { readonly kind: 'merge' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'transition'; readonly field: string; readonly from: readonly string[]; readonly to: string }
  | { readonly kind: 'handler'; readonly name: string };

export interface ActionDef {
  readonly name: string;
  readonly pack: string;
  readonly scroll: string;
  readonly description: string;
  /** Entity type of the target. */
  readonly entity: string;
  /** Template of the target id, with `{field}` standing for a payload string field. */
  readonly id: string;
  readonly schema: Record<string, unknown>;
  readonly effect: EffectSpec;
  /** Outbox event type written on success, e.g. `product.upserted`. */
  readonly event: string;
  readonly validate: ValidateFunction;
  readonly handler?: Handler;
  /**
   * Payload fields never kept (e.g. a one-time code): the command body stored beside the log has
   * them replaced by "[withheld]". The leaf names only the commandHash, so receipts still verify;
   * the stored body no longer re-verifies its signature.
   */
  readonly secretFields?: readonly string[];
  /**
   * Template (as `id`) of whom the command grants something (a role, a key, an entitlement, the
   * lifting of a flag), in the flag subjects' notation: `actor:{actor}`. An action that names an
   * actor there has that actor as its beneficiary, who may not approve it, break the glass on it
   * or close its review (docs/security.md); anything else (`tenant`) names nobody in particular.
   */
  readonly beneficiary?: string;
}

/** What an effect decides; nothing is written until every check has passed. */
export interface EffectPlan {
  /**
   * Entity writes; the first one for the command's target sets the record's `version`. A write with
   * `scope: 'deployment'` goes to the state every tenant shares (src/state/scope.ts); it MUST follow
   * a `getDeployment` of the same entity in this plan, as any read-modify-write.
   */
  readonly writes: ReadonlyArray<{ readonly type: string; readonly id: string; readonly doc?: unknown; readonly deleted?: boolean; readonly scope?: WriteScope }>;
  /** Returned to the client and hashed into the record's resultHash. */
  readonly result?: unknown;
  /**
   * Fields added to `result` in this answer only (a one-time code, a token): not hashed into the
   * record, not in the outbox event, not in the stored outcome (a retry's answer lacks them).
   */
  readonly reveal?: Readonly<Record<string, unknown>>;
  /**
   * The log the command's OK record goes to, when not the action's own scroll: a scroll of the
   * action's, `<action scroll>-<suffix>` (the runs pack writes a run to `runs-<domain>`). It MUST
   * depend only on the payload and the state read, so that a replay of the ledger chooses it again.
   * A refusal is always recorded in the action's scroll.
   */
  readonly scroll?: string;
  /** Stored command bodies to erase (writ.Redact); their records and proofs stay as they are. */
  readonly redactions?: ReadonlyArray<{ readonly scroll: string; readonly index: number; readonly reason: string }>;
  /**
   * The command held under approval `approvalId` ends in this same transaction (writ.Approve at
   * quorum, writ.BreakGlass, writ.Reject, writ.ExpireApproval): the applier runs it — after
   * re-checking its payload, the requester's flags and policy, and its expected version — or, with
   * `refusal`, records it refused; either way a record of the held command in its own log, whose
   * answer replaces the stored outcome of its requestId. `writes` MUST hold the approval entity;
   * the applier completes its document with how the command ended.
   */
  readonly settle?: { readonly approvalId: string; readonly refusal?: { readonly code: Code; readonly message: string } };
}

export interface EffectContext {
  readonly envelope: Envelope;
  readonly payload: Record<string, any>;
  readonly target: { readonly type: string; readonly id: string };
  readonly current: EntityRow | null;
  /** The time of the command's ledger record (RFC 3339). */
  readonly now: string;
  /** Reads another entity inside the apply transaction. */
  get(type: string, id: string): Promise<EntityRow | null>;
  /**
   * Reads an entity of the deployment scope inside the apply transaction. Commands of every tenant
   * are planned one after another against committed state plus the batches not yet committed, so
   * what this returns cannot change before the plan's writes are applied.
   */
  getDeployment(type: string, id: string): Promise<EntityRow | null>;
  /**
   * The roles `actor` holds in the command's tenant, as this transaction sees state (the pack that
   * provides role documents, the access pack's `actor`; none without one).
   */
  roles(actor: string): Promise<readonly string[]>;
  /** The actor of a key configured in auth.hmacKeys under this id, if there is one. */
  configuredKey(keyId: string): { readonly actor: string } | undefined;
  /** Whether the tenant's log `scroll` holds a durable record at `index`. */
  recordExists(scroll: string, index: number): Promise<boolean>;
}

export type Handler = (ctx: EffectContext) => Promise<EffectPlan> | EffectPlan;
