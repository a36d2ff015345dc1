import parsePrometheusTextFormat from 'parse-prometheus-text-format';

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];
type Sample = Family['metrics'][number];

export interface HistogramSample {
  /** Cumulative counts by upper bound (`le`), '+Inf' included. */
  readonly buckets: ReadonlyMap<string, number>;
  readonly sum: number;
  readonly count: number;
}

/**
 * A /metrics page read by an independent Prometheus text-format parser, with look-ups by family and
 * labels. The parser folds a histogram's samples into one whatever their labels (it was written for
 * unlabelled ones), so histograms are read a second time with their TYPE lines taken out: their
 * `_bucket`, `_sum` and `_count` samples then parse as families of their own, labels intact.
 */
export class Scrape {
  readonly families: ReadonlyMap<string, Family>;
  private readonly flat: ReadonlyMap<string, Family>;

  constructor(text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const untyped = text.split('\n').filter((line) => !/^# TYPE \S+ histogram$/.test(line)).join('\n');
    // One label set's _bucket, _sum and _count lines follow each other: each run parses as a family; join them.
    const flat = new Map<string, Family>();
    for (const f of parsePrometheusTextFormat(untyped)) flat.set(f.name, { ...f, metrics: [...(flat.get(f.name)?.metrics ?? []), ...f.metrics] });
    this.flat = flat;
  }

  family(name: string): Family {
    const f = this.families.get(name);
    if (!f) throw new Error(`no family ${name} in the scrape (families: ${[...this.families.keys()].join(', ')})`);
    return f;
  }

  /** The samples of counter or gauge `name` whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.family(name).metrics.filter((m) => matches(m, labels));
  }

  /** The value of the one sample of `name` with `labels` (0 when there is none, as Prometheus reads an absent counter). */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.samples(name, labels);
    if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
    return found.length ? Number(found[0].value) : 0;
  }

  /** The histogram `name` with exactly `labels` (besides `le`); zero counts when it has no such sample yet. */
  histogram(name: string, labels: Record<string, string> = {}): HistogramSample {
    if (this.family(name).type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
    const exact = (m: Sample) => matches(m, labels) && Object.keys(m.labels ?? {}).filter((k) => k !== 'le').length === Object.keys(labels).length;
    const of = (suffix: string) => (this.flat.get(`${name}_${suffix}`)?.metrics ?? []).filter(exact);
    const buckets = new Map(of('bucket').map((m) => [m.labels!.le, Number(m.value)]));
    return { buckets, sum: Number(of('sum')[0]?.value ?? 0), count: Number(of('count')[0]?.value ?? 0) };
  }
}

function matches(m: Sample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => m.labels?.[k] === v);
}
