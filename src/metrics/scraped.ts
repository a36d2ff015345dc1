import { Counter, Gauge, type Registry } from 'prom-client';

/** One sample: its label values (by label name) and its value. */
export type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];

export interface ScrapedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labels?: readonly string[];
  /** The family's samples now: called at scrape time only, never on the command path. */
  readonly read: () => Iterable<Sample>;
}

/**
 * A counter or gauge whose value lives elsewhere (a counter writ keeps anyway, a queue's length, a
 * log's size) and is read when Prometheus scrapes, so that nothing is done for it on the command path.
 */
export function registerScraped(registry: Registry, f: ScrapedFamily): void {
  const common = { name: f.name, help: f.help, labelNames: [...(f.labels ?? [])], registers: [registry] };
  if (f.type === 'counter') {
    new Counter({
      ...common,
      collect() {
        this.reset();
        for (const [labels, value] of f.read()) this.inc({ ...labels }, value);
      },
    });
  } else {
    new Gauge({
      ...common,
      collect() {
        this.reset();
        for (const [labels, value] of f.read()) this.set({ ...labels }, value);
      },
    });
  }
}

/** A family without labels: one sample. */
export function one(value: number): Iterable<Sample> {
  return [[{}, value]];
}
