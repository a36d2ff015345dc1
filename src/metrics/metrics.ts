import { Histogram, Registry } from 'prom-client';
import type { CommandOutcome, PipelineObserver } from '../pipeline/pipeline.js';
import { STAGES, type StageName } from '../pipeline/stage-clock.js';
import { registerScraped, type ScrapedFamily } from './scraped.js';

/** Stage latencies run from microseconds (limits, validate) to seconds (apply behind a slow disk). */
const STAGE_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The Prometheus metrics of one writ (docs/metrics.md), in a registry of its own: a process may run
 * several writs (tests do), and prom-client's global registry would mix them. On the command path
 * only a counter in a Map and a histogram's bucket are touched; everything else (queue depths, log
 * sizes, outbox lag, the pipeline's own counters) is read when Prometheus scrapes.
 */
export class WritMetrics implements PipelineObserver {
  readonly registry = new Registry();
  /** writ_commands_total, kept here and copied into the registry at scrape time: key action \0 outcome \0 code. */
  private readonly commands = new Map<string, number>();
  private readonly stages: Record<StageName, Histogram.Internal<'stage'>>;
  private readonly batches: Histogram;
  private readonly commits: Histogram;
  private before: Array<() => Promise<void>> = [];
  private readonly sources = new Map<string, unknown>();

  constructor() {
    const stage = new Histogram({ name: 'writ_stage_duration_seconds', help: 'Wall time a command spent in each pipeline stage (waiting included; failed stages too).', labelNames: ['stage'], buckets: STAGE_BUCKETS, registers: [this.registry] });
    this.stages = Object.fromEntries(STAGES.map((s) => [s, stage.labels(s)])) as Record<StageName, Histogram.Internal<'stage'>>;
    this.batches = new Histogram({ name: 'writ_apply_batch_commands', help: 'Commands per group-committed apply transaction.', buckets: BATCH_BUCKETS, registers: [this.registry] });
    this.commits = new Histogram({ name: 'writ_apply_commit_duration_seconds', help: 'Time from handing a batch to the store until it was durable (waiting behind the batch ahead included).', buckets: COMMIT_BUCKETS, registers: [this.registry] });
    this.family({
      name: 'writ_commands_total',
      help: 'Authenticated commands by action (a catalog action, or "unknown"), outcome (ok, pending, rejected: recorded; refused: answered, not recorded; replayed) and error code ("" for none).',
      type: 'counter',
      labels: ['action', 'outcome', 'code'],
      read: () => [...this.commands].map(([key, n]) => {
        const [action, outcome, code] = key.split('\0');
        return [{ action, outcome, code }, n] as const;
      }),
    });
  }

  stage(stage: StageName, seconds: number): void {
    this.stages[stage].observe(seconds);
  }

  command(action: string, outcome: CommandOutcome, code: string): void {
    const key = `${action}\0${outcome}\0${code}`;
    this.commands.set(key, (this.commands.get(key) ?? 0) + 1);
  }

  /** A batch of `commands` became durable `seconds` after it was handed to the store. */
  batch(commands: number, seconds: number): void {
    this.batches.observe(commands);
    this.commits.observe(seconds);
  }

  /** Adds a family read at scrape time. */
  family(f: ScrapedFamily): void {
    registerScraped(this.registry, f);
  }

  /**
   * Families of a part that starts after writ (a transport): registered on the first attach under
   * `name`; a later attach (a second server over the same writ, a restarted intake) replaces the source.
   */
  attach<T>(name: string, source: T, register: (m: WritMetrics, source: () => T) => void): void {
    const first = !this.sources.has(name);
    this.sources.set(name, source);
    if (first) register(this, () => this.sources.get(name) as T);
  }

  /** Runs `load` before each scrape (reads from the store that several families share); families read what it loaded. */
  beforeScrape(load: () => Promise<void>): void {
    this.before.push(load);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async scrape(): Promise<string> {
    for (const load of this.before) await load();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
