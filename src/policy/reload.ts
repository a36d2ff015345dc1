import { randomUUID } from 'node:crypto';
import { WritError } from '../core/errors.js';
import { isCode } from '../core/codes.js';
import { PolicyError, type Policy } from './cedar.js';
import { digestOf, type LivePolicy, type PolicyFile, type PolicySet } from './live.js';
import type { PolicySource } from './sources.js';
import { logError } from '../util/log.js';

/** The system action that records the policy set put in force (the writ pack). */
export const RECORD_POLICY = 'writ.RecordPolicy';

/** Who put a set in force: an admin (`actor:<name>`), a signal to the process (`signal:SIGHUP`), or a start that found the files changed. */
export type ReloadedBy = `actor:${string}` | `signal:${string}` | 'start';

export interface PolicyReloadDeps {
  readonly live: LivePolicy;
  /** The policy sources as they are on disk now (packs' and the home's files). */
  readonly read: () => PolicySource[];
  /** Loads and validates a set exactly as at start (Policy.load with the catalog's schema). */
  readonly load: (sources: readonly PolicySource[]) => Policy;
  /** Applies writ.RecordPolicy on writ's own authority in the home tenant. */
  readonly record: (payload: Record<string, unknown>, requestId: string) => Promise<{ httpStatus: number; body: string }>;
  /** The digest of the set last recorded (the `policyset/in-force` entity), or null if none was. */
  readonly recorded: () => Promise<string | null>;
}

/** What a reload answers (POST /v1/policy/reload, `writ policy reload`). */
export interface ReloadAnswer {
  readonly status: 'reloaded' | 'unchanged';
  readonly digest: string;
  /** The digest of the set in force before (equal to `digest` when unchanged). */
  readonly previous: string;
  readonly files: readonly PolicyFile[];
  readonly policies: number;
  readonly warnings: readonly string[];
  /** The requestId of the writ.RecordPolicy record (absent when unchanged). */
  readonly requestId?: string;
}

/** The policy set in force, as GET /v1/policy shows it. */
export function describeSet(set: PolicySet): { digest: string; files: readonly PolicyFile[]; policies: number } {
  return { digest: set.digest, files: set.files, policies: set.policy.policies().length };
}

/**
 * Reloads the policy set without a restart (docs/policy.md, "Reloading"): reads the files again,
 * validates them as at start, records the new set in the ledger, then swaps it in whole. An invalid
 * set, or one that cannot be recorded, changes nothing. Reloads run one at a time, so two at once
 * cannot record one set and put in force another.
 */
export class PolicyReload {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PolicyReloadDeps) {}

  inForce(): { digest: string; files: readonly PolicyFile[]; policies: number } {
    return describeSet(this.deps.live.current);
  }

  reload(by: ReloadedBy): Promise<ReloadAnswer> {
    const run = this.turn.then(() => this.once(by));
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * At start: when the ledger recorded a set before and the one loaded now differs (the files
   * changed while writ was stopped), records it, so the ledger names every set that was in force.
   * A home that never recorded one starts recording at its first reload (whose `previous` names the
   * set it started with).
   */
  async noteStart(): Promise<void> {
    const last = await this.deps.recorded();
    const set = this.deps.live.current;
    if (last === null || last === set.digest) return;
    // The set is in force whether or not it is recorded (it loaded, as at every start); a record
    // that fails is reported, and the next reload records the set then in force.
    await this.write({ digest: set.digest, previous: last, files: set.files, by: 'start' }).catch((err: unknown) => logError('the policy set loaded at start could not be recorded', err, { digest: set.digest }));
  }

  private async once(by: ReloadedBy): Promise<ReloadAnswer> {
    const before = this.deps.live.current;
    let sources: PolicySource[];
    try {
      // Named without this machine's paths: the answer names `policies/<file>`, never where the home lies.
      sources = this.deps.read().map(({ source, text }) => ({ source, text }));
    } catch (err) {
      throw invalid([(err as Error).message], before.digest);
    }
    const { digest, files } = digestOf(sources);
    const counts = { policies: before.policy.policies().length, warnings: before.policy.warnings };
    if (digest === before.digest) return { status: 'unchanged', digest, previous: digest, files, ...counts };
    let policy: Policy;
    try {
      policy = this.deps.load(sources);
    } catch (err) {
      if (err instanceof PolicyError) throw invalid(err.problems, before.digest);
      throw err;
    }
    const requestId = await this.write({ digest, previous: before.digest, files, by });
    this.deps.live.swap({ policy, digest, files });
    return { status: 'reloaded', digest, previous: before.digest, files, policies: policy.policies().length, warnings: policy.warnings, requestId };
  }

  private async write(payload: { digest: string; previous: string; files: readonly PolicyFile[]; by: ReloadedBy }): Promise<string> {
    const requestId = `policy-${randomUUID()}`;
    const reply = await this.deps.record({ ...payload, files: payload.files.map((f) => ({ ...f })) }, requestId);
    if (reply.httpStatus === 200) return requestId;
    let answer: { code?: unknown; message?: unknown } = {};
    try {
      answer = JSON.parse(reply.body) as typeof answer;
    } catch {
      /* not JSON: say what we know */
    }
    const code = isCode(answer.code) ? answer.code : 'UNAVAILABLE';
    throw new WritError(code, `the new policy set could not be recorded in the ledger (${String(answer.message ?? reply.httpStatus)}); the set in force (${payload.previous.slice(0, 12)}…) stays`);
  }
}

function invalid(problems: readonly string[], inForce: string): WritError {
  const n = problems.length;
  return new WritError('POLICY_INVALID', `${n} problem${n === 1 ? '' : 's'} in the policies; the set in force (${inForce.slice(0, 12)}…) stays. Fix ${n === 1 ? 'it' : 'them'} (writ policy check lists the same) and reload again:\n  ${problems.join('\n  ')}`, {
    details: { problems },
  });
}
