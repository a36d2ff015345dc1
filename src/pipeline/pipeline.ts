import type { Catalog } from '../catalog/catalog.js';
import { PUSHBACK_CODES, isPushback, type PushbackCode } from '../core/codes.js';
import { WritError, toWritError } from '../core/errors.js';
import type { Policy } from '../policy/cedar.js';
import type { Directory } from '../state/directory.js';
import type { Applier } from './apply/applier.js';
import { approval } from './approval/approval.js';
import { authenticate, type AuthenticateDeps } from './authenticate/authenticate.js';
import { authorize } from './authorize/authorize.js';
import type { CommandContext, Reply, Submission } from './context.js';
import type { Freshness } from './freshness/freshness.js';
import type { Idempotency } from './idempotency/idempotency.js';
import { intake, type IntakeLimits } from './intake/intake.js';
import type { IntakePool } from './intake/intake-pool.js';
import { requestIdHint } from './intake/identity-hint.js';
import { charge, limits, type RateLimiter } from './limits/limits.js';
import { errorAnswer, toReply } from './reply.js';
import { systemContext } from './system.js';
import { validate } from './validate/validate.js';
import { logError } from '../util/log.js';

export interface PipelineDeps {
  readonly intake: IntakeLimits;
  /** Runs intake in worker threads (and checks signatures there when it can); absent: on the event loop. */
  readonly intakePool?: IntakePool;
  readonly auth: Omit<AuthenticateDeps, 'now'>;
  readonly freshness: Freshness;
  readonly idempotency: Idempotency;
  readonly limiter: RateLimiter;
  readonly directory: Directory;
  readonly catalog: Catalog;
  readonly policy: Policy;
  readonly applier: Applier;
  readonly now: () => number;
}

export const STAGES = ['intake', 'authenticate', 'freshness', 'idempotency', 'limits', 'validate', 'authorize', 'approval', 'apply'] as const;
export type StageName = (typeof STAGES)[number];

/** Accumulated wall time per stage, for the benchmark's per-stage breakdown. Off unless enabled. */
export class StageClock {
  readonly ns: Record<StageName, number> = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<StageName, number>;
  enabled = false;
  add(stage: StageName, start: bigint): bigint {
    const t = process.hrtime.bigint();
    this.ns[stage] += Number(t - start);
    return t;
  }
}

/**
 * The command pipeline (DESIGN §1). This is the ONLY place that orders the stages:
 *   intake → authenticate → freshness → idempotency → limits → validate → authorize → approval → apply
 * Failures up to and including authentication are answered and counted, never stored. From then on
 * every outcome, accepted or rejected, becomes a ledger record through the applier — within the
 * actor's rate limit, which every record is charged to — except pushback (PUSHBACK_CODES), which is
 * answered and counted only.
 */
export class Pipeline {
  readonly clock = new StageClock();
  readonly counters = {
    unauthenticated: 0,
    replayed: 0,
    repeatedRejections: 0,
    /** Refusals answered and not recorded, per code (GET /healthz). */
    pushback: Object.fromEntries(PUSHBACK_CODES.map((c) => [c, 0])) as Record<PushbackCode, number>,
  };

  constructor(private readonly deps: PipelineDeps) {}

  async submit(submission: Submission): Promise<Reply> {
    const d = this.deps;
    const timed = this.clock.enabled;
    let t = timed ? process.hrtime.bigint() : 0n;
    let ctx: CommandContext;
    try {
      const input = d.intakePool ? await d.intakePool.prepare(submission) : intake(submission, d.intake);
      if (timed) t = this.clock.add('intake', t);
      ctx = await authenticate(input, submission, { ...d.auth, now: d.now });
      // After authentication, because a bearer token may supply the tenant; refused like a bad credential, never stored.
      if (submission.tenant !== undefined && ctx.envelope.tenant !== submission.tenant) {
        throw new WritError('TENANT_MISMATCH', `the command names tenant ${JSON.stringify(ctx.envelope.tenant)} but came in on the route of tenant ${JSON.stringify(submission.tenant)}`);
      }
      if (timed) t = this.clock.add('authenticate', t);
    } catch (err) {
      this.counters.unauthenticated++;
      const e = toWritError(err);
      if (e.code === 'INTERNAL') logError('unexpected error before authentication', err);
      return toReply(errorAnswer(e, requestIdHint(submission.body), null), e.retryAfter);
    }
    try {
      const now = d.now();
      try {
        await d.freshness.check(ctx, now);
      } catch (err) {
        const e = toWritError(err);
        if (d.freshness.repeatedRejection(ctx)) {
          this.counters.repeatedRejections++;
          return toReply(errorAnswer(e, ctx.envelope.requestId, ctx.commandHash));
        }
        const unrecorded = this.unrecorded(ctx, e, now);
        if (unrecorded) return unrecorded;
        // Remembered only once recorded: a refusal answered RATE_LIMITED may be recorded when sent again.
        d.freshness.noteRejection(ctx);
        return this.counted(await d.applier.reject(ctx, e));
      }
      if (timed) t = this.clock.add('freshness', t);
      const replay = d.idempotency.check(ctx);
      if (timed) t = this.clock.add('idempotency', t);
      if (replay) {
        this.counters.replayed++;
        return replay;
      }
      try {
        limits(ctx, d.directory, d.limiter, now);
        if (timed) t = this.clock.add('limits', t);
        validate(ctx, d.catalog);
        if (timed) t = this.clock.add('validate', t);
        authorize(ctx, d.policy, d.directory);
        if (timed) t = this.clock.add('authorize', t);
        approval(ctx, now);
        if (timed) t = this.clock.add('approval', t);
      } catch (err) {
        if (!(err instanceof WritError)) logError('unexpected error before apply; the command is recorded as INTERNAL', err, { action: ctx.envelope.action, requestId: ctx.envelope.requestId });
        return await this.refuse(ctx, toWritError(err), now);
      }
      // A command the approval stage held (ctx.hold) is written as PENDING instead of applied.
      const reply = this.counted(await d.applier.execute(ctx));
      if (timed) this.clock.add('apply', t);
      return reply;
    } catch (err) {
      if (!(err instanceof WritError)) logError('unexpected error in the pipeline; the command is recorded as INTERNAL', err, { action: ctx.envelope.action, requestId: ctx.envelope.requestId });
      return await this.refuse(ctx, toWritError(err), d.now());
    } finally {
      d.idempotency.release(ctx);
    }
  }

  /** An authenticated refusal: recorded by the applier, unless `unrecorded` answers it. */
  private async refuse(ctx: CommandContext, e: WritError, now: number): Promise<Reply> {
    return this.unrecorded(ctx, e, now) ?? this.counted(await this.deps.applier.reject(ctx, e));
  }

  /**
   * Answers a refusal that is not to be recorded: pushback, or a refusal its actor's rate limit has
   * no token left for (answered RATE_LIMITED, naming the refusal). Undefined: record it; it took
   * the command's token, so no actor records more than limits.rate refusals per window.
   */
  private unrecorded(ctx: CommandContext, e: WritError, now: number): Reply | undefined {
    let answer = e;
    if (!isPushback(e.code)) {
      try {
        charge(ctx, this.deps.limiter, now);
        return undefined;
      } catch (err) {
        const limited = toWritError(err);
        answer = new WritError(limited.code, `${limited.message}; the command was refused (${e.code}: ${e.message}), and over the limit the refusal is not recorded`, { retryAfter: limited.retryAfter });
      }
    }
    if (isPushback(answer.code)) this.counters.pushback[answer.code]++;
    return toReply(errorAnswer(answer, ctx.envelope.requestId, ctx.commandHash), answer.retryAfter);
  }

  /** Counts a batch that could not be made durable (the applier answers its commands UNAVAILABLE). */
  private counted(reply: Reply): Reply {
    if (reply.httpStatus === 503) this.counters.pushback.UNAVAILABLE++;
    return reply;
  }

  /**
   * Applies a command on writ's own authority (bootstrap by `writ init`): it is validated and
   * recorded like any other, with actor `writ`, but not signed and not put to policy.
   */
  async system(tenant: string, action: string, payload: Record<string, unknown>, requestId: string): Promise<Reply> {
    const ctx = systemContext(tenant, action, payload, requestId, this.deps.now());
    const replay = this.deps.idempotency.check(ctx);
    if (replay) return replay;
    try {
      validate(ctx, this.deps.catalog);
      return await this.deps.applier.execute(ctx);
    } catch (err) {
      if (err instanceof WritError) return this.deps.applier.reject(ctx, err);
      throw err;
    } finally {
      this.deps.idempotency.release(ctx);
    }
  }
}
