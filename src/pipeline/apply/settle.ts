import { APPROVAL_TYPE, type ApprovalDoc, type Settlement } from '../../approvals/pending.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { EffectPlan } from '../../catalog/types.js';
import { jcsBytes } from '../../canonical/jcs.js';
import { unsignedPart } from '../../core/envelope.js';
import { WritError, toWritError } from '../../core/errors.js';
import type { PolicyDecider } from '../../policy/live.js';
import { SYSTEM_TYPES, type Directory } from '../../state/directory.js';
import type { KeyDoc } from '../../state/documents.js';
import { keyRefusal, validityOf } from '../../state/key-validity.js';
import { flagIn, flagsRefusal } from '../../state/flags.js';
import type { EntityRow } from '../../store/port.js';
import { logError } from '../../util/log.js';
import type { CommandContext, Reply } from '../context.js';
import type { LedgerWriter, Writes } from './ledger-writer.js';

export interface SettleDeps {
  readonly writer: LedgerWriter;
  readonly catalog: Catalog;
  readonly now: () => number;
  /** Reads an entity as the batch being planned sees it (committed state plus the overlay). */
  readonly read: (tenant: string, type: string, id: string) => Promise<EntityRow | null>;
  /** The expected-version check and the action's effect, as for any command. */
  readonly plan: (ctx: CommandContext, current: EntityRow | null) => Promise<EffectPlan>;
  /**
   * Checks a held command about to run once more; throws its refusal. The applier passes
   * `recheckHeld` (today's policy and flags); the ledger replay, the verdict the record holds.
   */
  readonly recheck: (held: CommandContext) => Promise<void>;
}

export interface RecheckDeps {
  readonly catalog: Catalog;
  readonly policy: PolicyDecider;
  readonly directory: Directory;
  readonly read: (tenant: string, type: string, id: string) => Promise<EntityRow | null>;
}

/** The context of a held command about to run: its envelope as authenticated when it was held. */
function heldContext(doc: ApprovalDoc, catalog: Catalog, nowMs: number): CommandContext {
  const canonical = jcsBytes(unsignedPart(doc.envelope));
  const slash = doc.target.indexOf('/');
  return {
    submission: { body: canonical, receivedAt: nowMs },
    envelope: doc.envelope,
    canonical,
    commandHash: doc.commandHash,
    auth: { method: 'held', keyId: doc.envelope.signature?.keyId ?? null, sigDigest: doc.sigDigest },
    prior: null,
    nonceChecked: false,
    // The requestId's outcome is the held command's to replace (the key was claimed when it was held).
    ownsKey: true,
    action: catalog.get(doc.envelope.action),
    target: { type: doc.target.slice(0, slash), id: doc.target.slice(slash + 1) },
    roles: [],
  };
}

/**
 * The requester's signing key, as state holds it now: read through the overlay, so a revocation
 * planned earlier in this batch (or in one still committing) counts, though the directory has not
 * seen it yet. A key configured in auth.hmacKeys has a state row only once it is revoked.
 */
async function keyStillValid(deps: RecheckDeps, env: CommandContext['envelope'], keyId: string, nowMs: number): Promise<void> {
  const row = await deps.read(env.tenant, SYSTEM_TYPES.key, keyId);
  const doc = row && !row.deleted ? (row.doc as KeyDoc) : undefined;
  const configured = deps.directory.configured(env.tenant, keyId);
  // A configured HMAC key keeps its bounds from config; state adds only its revocation.
  const key = configured ? { ...configured, revokedAt: doc?.revokedAt ? Date.parse(doc.revokedAt) : null } : doc ? { actor: doc.actor, ...validityOf(doc) } : undefined;
  if (!key || key.actor !== env.actor) throw new WritError('UNKNOWN_KEY', `key ${JSON.stringify(keyId)} is no longer registered for actor ${JSON.stringify(env.actor)}`);
  const invalid = keyRefusal(keyId, key, nowMs);
  if (invalid) throw invalid;
}

/**
 * What the pipeline checked when the command came in, checked again now: the requester's key (when
 * the command was signed), the action and payload (packs may have changed), the requester's flags,
 * and policy with the roles it holds now. The requirement itself stays the one the command was held
 * under (its approvals were given to it).
 */
export async function recheckHeld(deps: RecheckDeps, held: CommandContext): Promise<void> {
  const env = held.envelope;
  if (held.auth.keyId !== null) await keyStillValid(deps, env, held.auth.keyId, held.submission.receivedAt);
  const action = held.action;
  if (!action) throw new WritError('UNKNOWN_ACTION', `there is no action ${JSON.stringify(env.action)} any more`);
  if (!action.validate(env.payload)) throw new WritError('INVALID_PAYLOAD', `the payload of ${action.name} no longer matches its schema`);
  held.target = deps.catalog.target(action, env.payload, env.target);
  // Through the overlay, as the key: a flag set just before this decision counts though the directory has not seen it.
  const flagOf = async (subject: string) => flagIn(await deps.read(env.tenant, SYSTEM_TYPES.flag, subject));
  const flagged = flagsRefusal({ tenant: await flagOf('tenant'), actor: await flagOf(`actor:${env.actor}`) }, env.tenant, env.actor, action.name);
  if (flagged) throw flagged;
  // The roles as state holds them now, through the overlay: a revocation planned just before counts.
  const roleType = deps.directory.roleType;
  held.roles = roleType ? [...deps.directory.rolesIn(await deps.read(env.tenant, roleType, env.actor))] : [];
  const target = `${held.target.type}/${held.target.id}`;
  const decision = deps.policy.authorize({ tenant: env.tenant, actor: env.actor, roles: held.roles, action: action.name, pack: action.pack, target, payload: env.payload });
  if (!decision.allowed) {
    throw new WritError('FORBIDDEN', `${env.actor} may no longer run ${action.name}${held.roles.length ? ` with roles ${held.roles.join(', ')}` : ' (no roles)'}`, { details: { policies: decision.reasons } });
  }
}

/**
 * Writes a command that settles a held one (its plan has `settle`), then the held command's end in
 * the same batch: run — its record, entity versions and event as if it had just arrived — or
 * refused, with a REJECTED record. Either answer replaces the requestId's stored 202, so the status
 * endpoint and a replay of the original envelope give the final outcome. The approval entity's
 * version written here says how it ended; a second decision planned after this one (in this batch
 * or a later one) sees that version, so a held command runs at most once.
 */
export async function settleHeld(deps: SettleDeps, w: Writes, ctx: CommandContext, plan: EffectPlan, current: EntityRow | null): Promise<Reply> {
  const { approvalId, refusal } = plan.settle!;
  const at = plan.writes.findIndex((x) => x.type === APPROVAL_TYPE && x.id === approvalId);
  if (at < 0) throw new Error(`a plan that settles approval ${approvalId} must write it`);
  const doc = plan.writes[at].doc as ApprovalDoc;
  const nowMs = deps.now();
  const held = heldContext(doc, deps.catalog, nowMs);
  let error = refusal ? new WritError(refusal.code, refusal.message) : undefined;
  let heldPlan: EffectPlan | undefined;
  let heldCurrent: EntityRow | null = null;
  if (!error) {
    try {
      await deps.recheck(held);
      heldCurrent = await deps.read(doc.tenant, held.target!.type, held.target!.id);
      heldPlan = await deps.plan(held, heldCurrent);
    } catch (err) {
      error = toWritError(err);
      if (!(err instanceof WritError)) logError('the effect of an approved command failed; it is recorded as INTERNAL', err, { action: doc.action, requestId: doc.requestId });
    }
  }
  const status = refusal ? doc.status : error ? 'failed' : 'executed';
  const settled: Settlement = { status: error ? 'ERROR' : 'OK', code: error?.code ?? null, at: new Date(nowMs).toISOString(), by: ctx.envelope.actor };
  const writes = plan.writes.map((x, i) => (i === at ? { ...x, doc: { ...doc, status, settled } } : x));
  const result = { ...(plan.result as Record<string, unknown>), status, outcome: { status: settled.status, code: settled.code } };
  const reply = await deps.writer.success(w, ctx, { ...plan, writes, result }, current);
  const approval = { id: doc.id, status, ...(doc.breakGlass ? { breakGlass: true } : {}) };
  if (heldPlan) await deps.writer.success(w, held, heldPlan, heldCurrent, { replace: true, approval });
  else deps.writer.rejection(w, held, error!, { replace: true, approval });
  return reply;
}
