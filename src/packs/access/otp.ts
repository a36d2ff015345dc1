import { RefusalWithFollowUp } from '../../approvals/decide.js';
import type { HandlerModule } from '../../catalog/catalog.js';
import type { EffectContext, EffectPlan } from '../../catalog/types.js';
import { WritError } from '../../core/errors.js';
import { sha256Hex } from '../../core/hash.js';
import type { ActorDoc } from './handlers.js';
import { OTP_MAX_ATTEMPTS, otpCode, otpHash, otpMatches, otpSalt, otpToken, type OtpSecret } from './otp-code.js';

/** An issued code, as state keeps it (entity `otp/<actor>`): never the code, only its keyed hash. */
export interface OtpDoc {
  actor: string;
  salt: string;
  hash: string;
  issuedAt: string;
  expiresAt: string;
  attemptsLeft: number;
  status: 'issued' | 'used' | 'spent';
  usedAt?: string;
}

export const DEFAULT_OTP_TTL_SECONDS = 300;
const SPEND_ACTION = 'SpendOtpAttempt';
/** Roles whose holders' credentials are their own (docs/security.md, rule 7): no code for them from others. */
const OWN_CREDENTIALS = ['admin', 'breakglass'];

export interface OtpDeps {
  /** The bearer-token secret; throws a WritError when none is configured. */
  readonly secret: () => OtpSecret;
}

function live(ctx: EffectContext): OtpDoc | null {
  return ctx.current && !ctx.current.deleted ? (ctx.current.doc as OtpDoc) : null;
}

/** A code is a credential of its actor: for an admin or breaker only the actor itself may ask. */
async function mayActAs(ctx: EffectContext, actor: string): Promise<void> {
  const row = await ctx.get('actor', actor);
  const roles = row && !row.deleted ? (row.doc as ActorDoc).roles : [];
  const own = roles.find((r) => OWN_CREDENTIALS.includes(r));
  if (own && ctx.envelope.actor !== actor) throw new WritError('FORBIDDEN', `${actor} holds role ${own}: only ${actor} itself may obtain a code or token for it`);
}

export function otpHandlers(deps: OtpDeps): HandlerModule {
  return {
    async issueOtp(ctx: EffectContext): Promise<EffectPlan> {
      const { actor, ttlSeconds = DEFAULT_OTP_TTL_SECONDS } = ctx.payload as { actor: string; ttlSeconds?: number };
      const secret = deps.secret();
      const profile = await ctx.get('profile', actor);
      if (!profile || profile.deleted) throw new WritError('NOT_FOUND', `there is no profile ${JSON.stringify(actor)}; create it with UpsertProfile first`);
      await mayActAs(ctx, actor);
      const env = ctx.envelope;
      const salt = otpSalt(env.tenant, env.actor, env.requestId);
      const code = otpCode(secret, salt, actor);
      const expiresAt = new Date(Date.parse(ctx.now) + ttlSeconds * 1000).toISOString();
      const doc: OtpDoc = { actor, salt, hash: otpHash(secret, salt, code), issuedAt: ctx.now, expiresAt, attemptsLeft: OTP_MAX_ATTEMPTS, status: 'issued' };
      // The code goes to this answer only: not its stored outcome, record, event or a retry's answer.
      return { writes: [{ ...ctx.target, doc }], result: { actor, expiresAt, attempts: OTP_MAX_ATTEMPTS }, reveal: { code } };
    },

    async exchangeOtp(ctx: EffectContext): Promise<EffectPlan> {
      const { actor, code } = ctx.payload as { actor: string; code: string };
      const secret = deps.secret();
      const doc = live(ctx);
      if (!doc) throw new WritError('OTP_INVALID', `no code was issued to ${actor}; issue one with IssueOtp`);
      await mayActAs(ctx, actor);
      if (doc.status === 'used') throw new WritError('OTP_USED', `the code issued to ${actor} at ${doc.issuedAt} was already exchanged; issue a new one`);
      if (doc.status === 'spent') throw new WritError('OTP_EXPIRED', `the code issued to ${actor} had ${OTP_MAX_ATTEMPTS} wrong attempts and is spent; issue a new one`);
      if (Date.parse(ctx.now) >= Date.parse(doc.expiresAt)) throw new WritError('OTP_EXPIRED', `the code issued to ${actor} expired at ${doc.expiresAt}; issue a new one`);
      if (!otpMatches(secret, doc.salt, code, doc.hash)) {
        const left = doc.attemptsLeft - 1;
        // The refusal writes nothing; the attempt is counted by writ right after it, in the same batch.
        const env = ctx.envelope;
        throw new RefusalWithFollowUp(new WritError('OTP_INVALID', `the code does not match the one issued to ${actor}; ${left} attempt${left === 1 ? '' : 's'} left`), {
          action: SPEND_ACTION,
          payload: { actor, salt: doc.salt },
          requestId: `otp-attempt:${sha256Hex(`${env.tenant}\n${env.actor}\n${env.requestId}`).slice(0, 48)}`,
        });
      }
      const { token, expiresAt } = await otpToken(secret, ctx.envelope.tenant, actor, Date.parse(ctx.now));
      const used: OtpDoc = { ...doc, status: 'used', usedAt: ctx.now };
      return { writes: [{ ...ctx.target, doc: used }], result: { actor, tokenType: 'Bearer', expiresAt }, reveal: { token } };
    },

    /** Counts a wrong code (writ's follow-up of a refused ExchangeOtp; policy lets nobody else run it). */
    spendOtpAttempt(ctx: EffectContext): EffectPlan {
      const { actor, salt } = ctx.payload as { actor: string; salt: string };
      const doc = live(ctx);
      if (!doc || doc.salt !== salt || doc.status !== 'issued') throw new WritError('INVALID_STATE', `the code of ${actor} this attempt was made on is no longer open`);
      const attemptsLeft = Math.max(0, doc.attemptsLeft - 1);
      const next: OtpDoc = { ...doc, attemptsLeft, status: attemptsLeft === 0 ? 'spent' : 'issued' };
      return { writes: [{ ...ctx.target, doc: next }], result: { actor, attemptsLeft } };
    },
  };
}
