import * as airlock from '../../approvals/airlock.js';
import * as decide from '../../approvals/decide.js';
import { APPROVAL_TYPE, ceilingRevertRequestId, OPEN_APPROVAL_TYPE, openIndexDoc, REVERT_ACTION, type ApprovalDoc } from '../../approvals/pending.js';
import type { TotpSecret } from '../../approvals/totp.js';
import type { HandlerModule } from '../../catalog/catalog.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { SYSTEM_ACTOR } from '../../pipeline/system.js';
import { addStaged, spend, spentWindows, stagedCandidates, unstage } from './airlock-index.js';
import { decider } from './approval-handlers.js';

export interface AirlockDeps {
  /** The deployment's TOTP secret; throws a WritError when it cannot be used. */
  readonly secret: () => TotpSecret;
}

const iso = (ms: number) => new Date(ms).toISOString();

function subject(doc: ApprovalDoc): airlock.AirlockSubject {
  return { approvalId: doc.id, commandHash: doc.commandHash, airlock: doc.airlock ?? airlock.OPEN };
}

/** A refusal that found the command staged past its ceiling: writ reverts it right after. */
function withRevert(error: WritError, doc: ApprovalDoc, expired: airlock.RevertedEvent | undefined): WritError {
  if (!expired) return error;
  return new decide.RefusalWithFollowUp(error, { action: REVERT_ACTION, payload: { approvalId: doc.id }, requestId: ceilingRevertRequestId(doc.id, expired.expiresAtMs) });
}

/** Staging and landing take an approver: a holder of a required role, not the requester unless self=true, never the beneficiary. */
async function mayOperate(ctx: EffectContext, doc: ApprovalDoc): Promise<void> {
  const d = await decider(ctx);
  const r = doc.requirement;
  if (d.actor === doc.requester && !r.allowSelf) throw new WritError('SELF_APPROVAL', `${d.actor} requested this command and may not stage or land it`);
  decide.notBeneficiary(doc, d.actor, 'stage or land', 'another approver must');
  if (!decide.mayDecide(r, d.roles)) throw new WritError('FORBIDDEN', `${d.actor} may not stage or land this command: it needs ${r.roles.length ? `one of the roles ${r.roles.join(', ')}` : 'a role'}`);
}

function approvalWrites(doc: ApprovalDoc, ceilingAt?: string): EffectPlan['writes'] {
  return [{ type: APPROVAL_TYPE, id: doc.id, doc }, { type: OPEN_APPROVAL_TYPE, id: doc.id, doc: openIndexDoc(doc, ceilingAt) }];
}

/**
 * writ.Stage, writ.Land and writ.Revert (DESIGN §5, docs/approvals.md "Airlock"): the rules are
 * the pure decisions of src/approvals/airlock.ts; these handlers read and write their state.
 */
export function airlockHandlers(deps: AirlockDeps): HandlerModule {
  return {
    async stage(ctx: EffectContext): Promise<EffectPlan> {
      const raw = (ctx.current?.doc as ApprovalDoc | undefined) ?? null;
      const doc = decide.openApproval(raw, ctx.target.id, undefined, ctx.now, ['approved']);
      if (!doc.airlock) throw new WritError('INVALID_STATE', `the command held under approval ${doc.id} has no airlock; it ran on its approvals`);
      await mayOperate(ctx, doc);
      const nowMs = Date.parse(ctx.now);
      const overCeiling = airlock.expired(subject(doc), nowMs) ?? undefined;
      if (overCeiling && nowMs >= Date.parse(doc.expiresAt)) {
        // Its staging reverted itself at the ceiling, and its TTL has passed too: it cannot be staged again.
        throw withRevert(new WritError('APPROVAL_EXPIRED', `the command held under approval ${doc.id} stayed staged past its ceiling and its TTL has passed (${doc.expiresAt})`, { details: { approvalId: doc.id, expiresAt: doc.expiresAt } }), doc, overCeiling);
      }
      const decision = await airlock.stage(subject(doc), ctx.payload.code as string, nowMs, { secret: deps.secret(), consumed: await spentWindows(ctx), rules: doc.requirement.airlock! });
      if (!decision.ok) throw withRevert(decision.error, doc, decision.expired);
      const staged = decision.state as airlock.StagedState;
      const next: ApprovalDoc = { ...doc, airlock: staged };
      return {
        writes: [...approvalWrites(next, iso(staged.expiresAtMs)), ...(await addStaged(ctx, next)), ...(await spend(ctx, decision.consume))],
        result: {
          approvalId: doc.id,
          airlock: 'staged',
          window: staged.stageWindow,
          landableAt: iso(staged.landableAtMs),
          ceilingAt: iso(staged.expiresAtMs),
          ...(decision.expired ? { revertedAtCeiling: iso(decision.expired.expiresAtMs) } : {}),
        },
      };
    },

    async land(ctx: EffectContext): Promise<EffectPlan> {
      const prefix = String(ctx.payload.hashPrefix).toLowerCase();
      const docs = new Map<string, ApprovalDoc>();
      for (const c of await stagedCandidates(ctx, prefix)) {
        const row = await ctx.get(APPROVAL_TYPE, c.approvalId);
        if (row && !row.deleted && c.commandHash.startsWith(prefix)) docs.set(c.approvalId, row.doc as ApprovalDoc);
      }
      // Who may land is checked before the code, so an actor who may not spends nothing and learns nothing.
      const only = docs.size === 1 ? [...docs.values()][0] : undefined;
      if (only) await mayOperate(ctx, only);
      const nowMs = Date.parse(ctx.now);
      const decision = await airlock.land([...docs.values()].map(subject), prefix, ctx.payload.code as string, nowMs, { secret: deps.secret(), consumed: await spentWindows(ctx) });
      if (!decision.ok) throw only ? withRevert(decision.error, only, decision.expired) : decision.error;
      const doc = docs.get(decision.approvalId)!;
      const next: ApprovalDoc = { ...doc, airlock: decision.state };
      return {
        writes: [{ type: APPROVAL_TYPE, id: doc.id, doc: next }, { type: OPEN_APPROVAL_TYPE, id: doc.id, deleted: true }, ...(await unstage(ctx, doc)), ...(await spend(ctx, decision.consume))],
        result: { approvalId: doc.id, airlock: 'landed', window: (decision.state as airlock.LandedState).landWindow },
        settle: { approvalId: doc.id },
      };
    },

    async revert(ctx: EffectContext): Promise<EffectPlan> {
      const doc = (ctx.current?.doc as ApprovalDoc | undefined) ?? null;
      if (!doc) throw new WritError('NOT_FOUND', `no command is held under approval ${JSON.stringify(ctx.target.id)}`);
      const actor = ctx.envelope.actor;
      if (actor !== SYSTEM_ACTOR && actor !== doc.requester && !decide.mayDecide(doc.requirement, (await decider(ctx)).roles)) {
        throw new WritError('FORBIDDEN', `${actor} may not revert this command: it takes its requester or an approver`);
      }
      if (doc.status !== 'approved') throw new WritError('INVALID_STATE', `the command held under approval ${doc.id} is ${doc.status}; only a staged command can be reverted`, { details: { field: 'status', current: doc.status, allowed: ['approved'] } });
      const decision = airlock.revert(subject(doc), Date.parse(ctx.now));
      if (!decision.ok) throw decision.error;
      const next: ApprovalDoc = { ...doc, airlock: airlock.OPEN };
      const event = decision.event as airlock.RevertedEvent;
      return { writes: [...approvalWrites(next), ...(await unstage(ctx, doc))], result: { approvalId: doc.id, airlock: 'open', reason: event.reason, stagedAt: iso(event.stagedAtMs) } };
    },
  };
}
