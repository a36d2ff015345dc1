import { jcsBytes } from '../canonical/jcs.js';
import { PATTERNS } from '../core/envelope.js';
import { WritError } from '../core/errors.js';
import type { EntityRow } from '../store/port.js';
import { logError } from '../util/log.js';
import type { Catalog } from './catalog.js';
import { logJobFailure } from './every-interval.js';
import type { EventConsumer, JobContext, PackReads, SystemAnswer } from './pack-module.js';
import type { Sink } from '../outbox/sink.js';

/** What writ gives every job; `submit` is narrowed to the job's own pack here. */
export type JobDeps = Omit<JobContext, 'signal' | 'consume'> & {
  /** The largest payload a job may submit, in canonical bytes (intake.maxBytes, as a body). */
  readonly maxBytes: number;
  /** Opens an outbox consumer (JobContext.consume); `wake` is called on every durable commit. */
  consume(name: string, actions: readonly string[], sink: Sink): Promise<RunningConsumer>;
};

/** An outbox consumer as writ runs it. */
export interface RunningConsumer extends EventConsumer {
  wake(): void;
}

/**
 * Why a job of `pack` may not submit this command, or undefined. A system command skips intake
 * (it is not a body), so the bounds intake puts on an envelope are checked here, before anything
 * reaches the store: the job's own pack's action, a tenant writ serves, a requestId and a payload
 * an envelope could carry.
 */
function jobRefusal(catalog: Catalog, pack: string, deps: JobDeps, tenant: string, action: string, payload: Record<string, unknown>, requestId: string): WritError | undefined {
  const owner = catalog.get(action)?.pack;
  if (owner !== pack) return new WritError('FORBIDDEN', `a job of pack ${pack} may submit only its own pack's actions, not ${JSON.stringify(action)}${owner ? ` (pack ${owner})` : ''}`);
  if (!deps.tenants().includes(tenant)) return new WritError('FORBIDDEN', `a job submits only in tenants writ serves; ${JSON.stringify(tenant.slice(0, 64))} has no log`);
  if (!PATTERNS.requestId.test(requestId)) return new WritError('INVALID_ENVELOPE', `a requestId is 8 to 128 characters of A-Z a-z 0-9 . _ : -`);
  const size = jcsBytes(payload).byteLength;
  if (size > deps.maxBytes) return new WritError('PAYLOAD_TOO_LARGE', `the payload is ${size} bytes; the limit is ${deps.maxBytes}`);
  return undefined;
}

/**
 * The loaded packs' contributions, run by the composition root (src/writ.ts) without naming any
 * pack: apply hooks, start and close, background jobs, role documents and services.
 */
export class PackRuntime {
  private readonly stop = new AbortController();
  private readonly running: Array<Promise<void>> = [];
  private readonly consumers = new Set<RunningConsumer>();

  constructor(private readonly catalog: Catalog) {}

  /** The applier's beforeCommit: every pack's, together. */
  async beforeCommit(): Promise<void> {
    await Promise.all(this.catalog.packs.map((p) => p.module.hooks?.beforeCommit?.()));
  }

  /** The applier's onApplied: every pack's afterCommit, each on its own (one's exception is logged). */
  afterCommit(rows: readonly EntityRow[]): void {
    for (const p of this.catalog.packs) {
      try {
        p.module.hooks?.afterCommit?.(rows);
      } catch (err) {
        logError(`the afterCommit hook of pack ${p.name} failed`, err);
      }
    }
  }

  /** Every pack's start, in pack order. */
  async start(reads: PackReads): Promise<void> {
    for (const p of this.catalog.packs) await p.module.start?.(reads);
  }

  /** Starts every pack's jobs, each with a context whose submit takes only its own pack's actions. */
  startJobs(deps: JobDeps): void {
    for (const p of this.catalog.packs) {
      for (const job of p.module.jobs ?? []) {
        const submit = (tenant: string, action: string, payload: Record<string, unknown>, requestId: string): Promise<SystemAnswer> => {
          const refusal = jobRefusal(this.catalog, p.name, deps, tenant, action, payload, requestId);
          return refusal ? Promise.reject(refusal) : deps.submit(tenant, action, payload, requestId);
        };
        const consume = async (name: string, actions: readonly string[], sink: Sink): Promise<EventConsumer> => {
          const consumer = await deps.consume(name, actions, sink);
          this.consumers.add(consumer);
          return {
            close: async () => {
              this.consumers.delete(consumer);
              await consumer.close();
            },
          };
        };
        const { maxBytes: _, ...context } = deps;
        const ctx: JobContext = { ...context, submit, consume, signal: this.stop.signal };
        this.running.push(
          Promise.resolve()
            .then(() => job.run(ctx))
            .catch((err) => logJobFailure(p.name, job.name, err)),
        );
      }
    }
  }

  /** New events are durable: every job's outbox consumer looks for them. */
  wake(): void {
    for (const c of this.consumers) c.wake();
  }

  /** Aborts every job's signal, waits for their runs to end, and closes consumers a job left open. */
  async stopJobs(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.running);
    await Promise.all([...this.consumers].map((c) => c.close()));
    this.consumers.clear();
  }

  /** Every pack's close, in reverse pack order. */
  async close(): Promise<void> {
    for (const p of [...this.catalog.packs].reverse()) await p.module.close?.();
  }

  /** The running pack's service (PackModule.service), for its own routes (PackRouteContext.service). */
  service(pack: string): unknown {
    return this.catalog.packs.find((p) => p.name === pack)?.module.service;
  }
}
