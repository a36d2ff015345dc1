import type { Catalog } from '../catalog/catalog.js';
import { PUSHBACK_CODES, isPushback, type PushbackCode } from '../core/codes.js';
import { WritError, toWritError } from '../core/errors.js';
import type { PolicyDecider } from '../policy/live.js';
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
import { StageClock, type StageName } from './stage-clock.js';

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
  readonly policy: PolicyDecider;
  readonly applier: Applier;
  readonly now: () => number;
  /** Told of each stage's time and each authenticated command's answer (the metrics); absent: nobody. */
  readonly observer?: PipelineObserver;
}

export { STAGES, StageClock, type StageName } from './stage-clock.js';

/** How an authenticated command was answered: `rejected` is recorded, `refused` is answered only. */
export type CommandOutcome = 'ok' | 'pending' | 'rejected' | 'refused' | 'replayed';

/** What the pipeline reports as it runs (src/metrics): cheap calls, made on the command path. */
export interface PipelineObserver {
  stage(stage: StageName, seconds: number): void;
  /** An authenticated command's answer; `action` is a catalog action's name or `unknown`, `code` '' for none. */
  command(action: string, outcome: CommandOutcome, code: string): void;
}

/** An answer, with the context it was given in (null: refused before authentication) and whether it was recorded. */
interface Answered {
  readonly reply: Reply;
  readonly ctx: CommandContext | null;
  readonly recorded: boolean;
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

  constructor(private readonly deps: PipelineDeps) {
    if (deps.observer) this.clock.observe = (stage, seconds) => deps.observer!.stage(stage, seconds);
  }

  async submit(submission: Submission): Promise<Reply> {
    const { reply, ctx, recorded } = await this.run(submission);
    if (ctx && this.deps.observer) {
      const name = ctx.envelope.action;
      const outcome: CommandOutcome = reply.replayed ? 'replayed' : reply.httpStatus === 200 ? 'ok' : reply.httpStatus === 202 ? 'pending' : recorded && reply.httpStatus !== 503 ? 'rejected' : 'refused';
      this.deps.observer.command(this.deps.catalog.get(name) ? name : 'unknown', outcome, codeOf(reply));
    }
    return reply;
  }

  private async run(submission: Submission): Promise<Answered> {
    const d = this.deps;
    const clock = this.clock;
    let ctx: CommandContext;
    try {
      const input = await clock.time('intake', () => (d.intakePool ? d.intakePool.prepare(submission) : intake(submission, d.intake)));
      ctx = await clock.time('authenticate', async () => {
        const c = await authenticate(input, submission, { ...d.auth, now: d.now });
        // After authentication, because a bearer token may supply the tenant; refused like a bad credential, never stored.
        if (submission.tenant !== undefined && c.envelope.tenant !== submission.tenant) {
          throw new WritError('TENANT_MISMATCH', `the command names tenant ${JSON.stringify(c.envelope.tenant)} but came in on the route of tenant ${JSON.stringify(submission.tenant)}`);
        }
        return c;
      });
    } catch (err) {
      this.counters.unauthenticated++;
      const e = toWritError(err);
      if (e.code === 'INTERNAL') logError('unexpected error before authentication', err);
      return { reply: toReply(errorAnswer(e, requestIdHint(submission.body), null), e.retryAfter), ctx: null, recorded: false };
    }
    const c = ctx;
    try {
      const now = d.now();
      try {
        await clock.time('freshness', () => d.freshness.check(c, now));
      } catch (err) {
        const e = toWritError(err);
        if (d.freshness.repeatedRejection(c)) {
          this.counters.repeatedRejections++;
          return { reply: toReply(errorAnswer(e, c.envelope.requestId, c.commandHash)), ctx: c, recorded: false };
        }
        const unrecorded = this.unrecorded(c, e, now);
        if (unrecorded) return { reply: unrecorded, ctx: c, recorded: false };
        // Remembered only once recorded: a refusal answered RATE_LIMITED may be recorded when sent again.
        d.freshness.noteRejection(c);
        return { reply: this.counted(await d.applier.reject(c, e)), ctx: c, recorded: true };
      }
      const replay = clock.time('idempotency', () => d.idempotency.check(c));
      if (replay) {
        this.counters.replayed++;
        return { reply: replay, ctx: c, recorded: false };
      }
      try {
        clock.time('limits', () => limits(c, d.directory, d.limiter, now));
        clock.time('validate', () => validate(c, d.catalog));
        clock.time('authorize', () => authorize(c, d.policy, d.directory));
        clock.time('approval', () => approval(c, now));
      } catch (err) {
        if (!(err instanceof WritError)) logError('unexpected error before apply; the command is recorded as INTERNAL', err, { action: c.envelope.action, requestId: c.envelope.requestId });
        return await this.refuse(c, toWritError(err), now);
      }
      // A command the approval stage held (ctx.hold) is written as PENDING instead of applied.
      return { reply: this.counted(await clock.time('apply', () => d.applier.execute(c))), ctx: c, recorded: true };
    } catch (err) {
      if (!(err instanceof WritError)) logError('unexpected error in the pipeline; the command is recorded as INTERNAL', err, { action: c.envelope.action, requestId: c.envelope.requestId });
      return await this.refuse(c, toWritError(err), d.now());
    } finally {
      d.idempotency.release(c);
    }
  }

  /** An authenticated refusal: recorded by the applier, unless `unrecorded` answers it. */
  private async refuse(ctx: CommandContext, e: WritError, now: number): Promise<Answered> {
    const unrecorded = this.unrecorded(ctx, e, now);
    if (unrecorded) return { reply: unrecorded, ctx, recorded: false };
    return { reply: this.counted(await this.deps.applier.reject(ctx, e)), ctx, recorded: true };
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

/** The code an answer carries ('' for none); a replayed refusal's is read from its stored answer. */
function codeOf(reply: Reply): string {
  if (reply.code) return reply.code;
  if (!reply.replayed || reply.httpStatus < 400) return '';
  try {
    const code = (JSON.parse(reply.body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}
