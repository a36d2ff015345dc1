import type { OutboxConfig } from '../../../config/config.js';
import type { Attempt, Sink } from '../../../outbox/sink.js';
import type { Signer } from '../../../sdk/sign.js';
import type { PackReads } from '../../../catalog/pack-module.js';
import type { StoredOutboxRow } from '../../../store/port.js';
import { logError } from '../../../util/log.js';
import type { OpDoc } from '../op-doc.js';
import { send, type Answer, type Submit } from './commands.js';
import type { OpsConfig } from '../../../config/ops.js';
import { execute, type Execution } from './executor.js';

export interface EffectorDeps {
  /** Reads of committed state (the job's context). */
  readonly reads: Pick<PackReads, 'get' | 'list'>;
  readonly config: OpsConfig;
  readonly submit: Submit;
  readonly signer: Signer;
  readonly now: () => number;
}

/** What `writ ops status` and /metrics see of this process's effector. */
export interface EffectorCounts {
  executions: number;
  succeeded: number;
  failed: number;
  lostAttempts: number;
}

const OP_ACTIONS = new Set(['SubmitOp', 'RollbackOp']);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The effector (docs/ops.md): an outbox sink that acts on the world. The outbox hands it every
 * SubmitOp and RollbackOp once durable — at least once, so it reads the op's state before acting
 * and the executor gets the op's requestId as its idempotency key. For each attempt it records
 * StartOpAttempt (the op is running until a deadline), runs the executor, and records
 * RecordOpResult, both signed with its own key, through the pipeline. A crash between the two
 * leaves the op running past its deadline; `watch` holds every running op this process knows of
 * (the start-up scan finds those of an earlier process) and the scan applies `overdue`.
 */
export class Effector implements Sink {
  readonly kind = 'effector' as const;
  readonly concurrency: number;
  readonly counts: EffectorCounts = { executions: 0, succeeded: 0, failed: 0, lostAttempts: 0 };
  /** Running ops and their deadlines (ms), by `tenant\nopId`. */
  readonly watch = new Map<string, number>();
  private readonly busy = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: EffectorDeps) {
    this.concurrency = deps.config.effector.concurrency;
  }

  /** Finds the running ops an earlier process left, then checks deadlines every scanIntervalMs. */
  async start(tenants: readonly string[]): Promise<void> {
    const pending: Array<[string, string]> = [];
    for (const tenant of tenants) {
      let after: string | null = null;
      for (;;) {
        const rows = await this.deps.reads.list(tenant, 'op', after, 500);
        for (const r of rows) {
          const op = r.doc as OpDoc | null;
          if (op?.status === 'running' && op.deadline) this.watch.set(`${tenant}\n${op.id}`, Date.parse(op.deadline));
          // A pending op whose delivery an earlier process finished without ending it (stopped in a backoff).
          if (op?.status === 'pending') pending.push([tenant, op.id]);
        }
        if (rows.length < 500) break;
        after = rows[rows.length - 1].id;
      }
    }
    for (const [tenant, id] of pending) void this.run(tenant, id).catch(() => undefined);
    this.timer = setInterval(() => this.scan(), this.deps.config.effector.scanIntervalMs);
    this.timer.unref();
  }

  /** Ops running past their deadline, as of now. */
  overdue(): Array<{ tenant: string; op: string; deadline: string }> {
    const now = this.deps.now();
    return [...this.watch].filter(([, d]) => d < now).map(([k, d]) => ({ tenant: k.split('\n')[0], op: k.split('\n')[1], deadline: new Date(d).toISOString() }));
  }

  private scan(): void {
    // A failure here (writ refusing a command) leaves the op overdue: the next scan tries again.
    for (const { tenant, op } of this.overdue()) void this.run(tenant, op).catch(() => undefined);
  }

  async deliver(event: StoredOutboxRow): Promise<Attempt> {
    if (!OP_ACTIONS.has(event.action) || !event.target?.startsWith('op/')) return { ok: true };
    if (this.closed) return { ok: false, error: 'the effector is closing' };
    try {
      await this.run(event.tenant, event.target.slice(3));
      return { ok: true };
    } catch (err) {
      // writ could not take a command (shutting down, store failing): the outbox delivers again.
      return { ok: false, error: (err as Error).message };
    }
  }

  /** One op at a time per op in this process; a second call waits for the first and re-reads. */
  run(tenant: string, opId: string): Promise<void> {
    const key = `${tenant}\n${opId}`;
    const prior = this.busy.get(key) ?? Promise.resolve();
    const next = prior.then(() => this.drive(tenant, opId));
    const settled: Promise<void> = next.catch(() => undefined).then(() => {
      if (this.busy.get(key) === settled) this.busy.delete(key);
    });
    this.busy.set(key, settled);
    return next;
  }

  private async read(tenant: string, opId: string): Promise<OpDoc | null> {
    const row = await this.deps.reads.get(tenant, 'op', opId);
    return row && !row.deleted ? (row.doc as OpDoc) : null;
  }

  private async command(tenant: string, action: string, payload: Record<string, unknown>): Promise<Answer> {
    const a = await send(this.deps.submit, this.deps.signer, tenant, action, payload);
    if (a.status === 503 || a.status === 429 || a.status >= 500) throw new Error(`writ did not take ${action} for op ${String(payload.opId)}: ${a.body.code ?? a.status}`);
    return a;
  }

  /** Moves the op on until it ends, or another attempt (an earlier process's) owns it until its deadline. */
  private async drive(tenant: string, opId: string): Promise<void> {
    const cfg = this.deps.config.effector;
    const key = `${tenant}\n${opId}`;
    // Each turn starts or ends an attempt; the bound only stops a bug from spinning.
    for (let turn = 0; turn < 2 * cfg.maxAttempts + 4 && !this.closed; turn++) {
      const op = await this.read(tenant, opId);
      if (!op || op.status === 'succeeded' || op.status === 'failed') {
        this.watch.delete(key);
        return;
      }
      if (op.status === 'running') {
        const deadline = Date.parse(op.deadline ?? '');
        if (this.deps.now() <= deadline) {
          this.watch.set(key, deadline);
          return;
        }
        if (cfg.overdue === 'fail' || op.attempts >= cfg.maxAttempts) {
          this.counts.lostAttempts++;
          await this.record(tenant, op, op.attempts, true, null, `no result before the deadline ${op.deadline}: the attempt was lost (writ stopped while it ran)`);
          continue;
        }
        this.counts.lostAttempts++;
      }
      const attempt = op.attempts + 1;
      const spec = op.rollbackOf ? this.deps.config.executors[op.kind]?.inverse : this.deps.config.executors[op.kind];
      const timeoutMs = (spec?.timeoutMs ?? 0) + cfg.graceMs;
      const started = await this.command(tenant, 'StartOpAttempt', { opId, attempt, timeoutMs: Math.max(100, timeoutMs) });
      if (started.status !== 200) {
        // Another attempt moved the op (a duplicate delivery raced this one): read it again.
        if (started.body.code === 'INVALID_STATE') continue;
        // Refused otherwise (the effector's key or role missing, a flag on it): the outbox delivers
        // the op again with backoff, so fixing that is enough for the op to run.
        logError('the effector could not start an op; it is tried again', new Error(started.body.message ?? String(started.status)), { tenant, op: opId, code: started.body.code });
        throw new Error(`StartOpAttempt of op ${opId} was refused ${started.body.code ?? started.status}`);
      }
      this.watch.set(key, this.deps.now() + timeoutMs);
      const final = attempt >= cfg.maxAttempts;
      if (!spec) {
        const what = op.rollbackOf ? `an inverse for the ${op.kind} executor` : `an executor for ${op.kind}`;
        await this.record(tenant, op, attempt, true, null, `no ${what} is configured (ops.executors in config.json)`);
        continue;
      }
      this.counts.executions++;
      const ex = await execute(spec, { op: op.id, tenant, kind: op.kind, workspace: op.workspace, resource: op.resource, parameters: op.parameters, attempt, idempotencyKey: op.requestId, rollbackOf: op.rollbackOf });
      await this.record(tenant, op, attempt, ex.ok || final, ex, ex.error);
      if (!ex.ok && !final) await sleep(Math.min(cfg.backoffMs * 2 ** (attempt - 1), 60_000));
    }
    // Stopped before the op ended (closing, or a bug's bound): the outbox must deliver it again.
    const op = await this.read(tenant, opId);
    if (op && (op.status === 'pending' || (op.status === 'running' && !this.watch.has(key)))) throw new Error(`op ${opId} did not end in this delivery`);
  }

  private async record(tenant: string, op: OpDoc, attempt: number, final: boolean, ex: Execution | null, error: string | null): Promise<void> {
    const outcome = ex?.ok ? 'succeeded' : 'failed';
    const payload: Record<string, unknown> = {
      opId: op.id,
      attempt,
      outcome,
      final,
      exitStatus: ex?.exitStatus ?? null,
      durationMs: ex?.durationMs ?? 0,
      ...(ex ? { stdout: ex.stdout, stderr: ex.stderr } : {}),
      ...(error ? { error: error.slice(0, 500) } : {}),
    };
    const a = await this.command(tenant, 'RecordOpResult', payload);
    if (a.status !== 200) {
      logError('the effector could not record a result; the op stays running until its deadline', new Error(a.body.message ?? String(a.status)), { tenant, op: op.id, code: a.body.code });
      return;
    }
    if (final) {
      this.watch.delete(`${tenant}\n${op.id}`);
      if (outcome === 'succeeded') this.counts.succeeded++;
      else this.counts.failed++;
    }
  }

  /** Starts no new attempt; waits (at most waitMs) for those running to record their results. */
  async close(waitMs = 10_000): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.race([Promise.all([...this.busy.values()]), sleep(waitMs)]);
  }
}
