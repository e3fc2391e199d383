// Metric families: plain numbers on the hot path, turned into prom-client's form only when scraped.
//
// Adding a counter is one line in the module that counts:
//   export const evicted = counter('fluxdns_connections_evicted_total', 'Connections closed to make room');
// and `evicted.value++` (or `.inc()`) where it happens. Labelled: counterBy(name, help, ['reason']).inc('full').
// Values that already live elsewhere (a Map size, an object's field) are read by a callback: observed().

export type MetricKind = 'counter' | 'gauge' | 'histogram';
/** How the primary merges one family over the workers (prom-client's aggregators). */
export type Merge = 'sum' | 'max' | 'min' | 'first';
export type Labels = Record<string, string>;

/** One sample as prom-client's JSON form has it (metricName is set for histogram series). */
export interface SampleJson {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** One family in prom-client's JSON form: what workers send the primary and what collectMetrics returns. */
export interface FamilyJson {
  name: string;
  help: string;
  type: MetricKind;
  aggregator: Merge;
  values: SampleJson[];
}

/**
 * This process's families, by name. prom-client is loaded only where metrics are merged and formatted
 * (collect.ts, on the first scrape): importing it costs more start-up time than the rest of the server's
 * modules, and every worker and every counting module would pay it.
 */
const families = new Map<string, { name: string; help: string; type: MetricKind; aggregator: Merge; values: () => SampleJson[] | Promise<SampleJson[]> }>();

/** Every family of this process with its current values (prom-client's JSON form). */
export async function localFamilies(): Promise<FamilyJson[]> {
  return Promise.all([...families.values()].map(async (f) => ({ name: f.name, help: f.help, type: f.type, aggregator: f.aggregator, values: await f.values() })));
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Registers a family read by `values()` at scrape time; returns nothing to count with. */
export function observed(
  name: string,
  help: string,
  type: MetricKind,
  labelNames: readonly string[],
  values: () => Iterable<[labelValues: readonly string[], value: number]> | Promise<Iterable<[labelValues: readonly string[], value: number]>>,
  aggregator: Merge = 'sum',
): void {
  observedSamples(
    name,
    help,
    type,
    async () => {
      const out: SampleJson[] = [];
      for (const [lv, value] of await values()) out.push({ value, labels: labelsOf(labelNames, lv) });
      return out;
    },
    aggregator,
  );
}

/** Like observed(), with the samples made by the caller (a histogram's series: histogramSamples()). */
export function observedSamples(name: string, help: string, type: MetricKind, samples: () => SampleJson[] | Promise<SampleJson[]>, aggregator: Merge = 'sum'): void {
  // Read from an object made per server start: a later start in the same process replaces it.
  families.delete(name);
  register(name, help, type, aggregator, samples);
}

/** A counter without labels: `c.value++` on the hot path. */
export class Count {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export function counter(name: string, help: string): Count {
  const c = new Count();
  register(name, help, 'counter', 'sum', () => [{ value: c.value, labels: {} }]);
  return c;
}

/** A counter with labels: `c.inc('a')` or `c.inc('a', 'b')` with one value per label name. */
export class CountBy {
  /** Label values joined by a tab → count. */
  readonly counts = new Map<string, number>();
  inc(...values: string[]): void {
    const key = values.length === 1 ? values[0]! : values.join('\t');
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  add(n: number, ...values: string[]): void {
    const key = values.length === 1 ? values[0]! : values.join('\t');
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}

export function counterBy(name: string, help: string, labelNames: readonly string[]): CountBy {
  const c = new CountBy();
  register(name, help, 'counter', 'sum', () => [...c.counts].map(([k, value]) => ({ value, labels: labelsOf(labelNames, labelNames.length === 1 ? [k] : k.split('\t')) })));
  return c;
}

/** A histogram without labels over fixed upper bounds (seconds or bytes). */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number, n = 1): void {
    this.sum += v * n;
    this.count += n;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]! += n;
        return;
      }
    }
  }
  /** Cumulative count at each bound, then +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) out.push((acc += this.counts[i]!));
    out.push(this.count);
    return out;
  }
}

export function histogram(name: string, help: string, bounds: readonly number[]): Buckets {
  const h = new Buckets(bounds);
  register(name, help, 'histogram', 'sum', () => histogramSamples(name, h));
  return h;
}

export function histogramSamples(name: string, h: Buckets, labels: Labels = {}): SampleJson[] {
  const cum = h.cumulative();
  const out: SampleJson[] = cum.map((value, i) => ({ value, labels: { ...labels, le: i < h.bounds.length ? String(h.bounds[i]) : '+Inf' }, metricName: `${name}_bucket` }));
  out.push({ value: h.sum, labels, metricName: `${name}_sum` }, { value: h.count, labels, metricName: `${name}_count` });
  return out;
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const l: Labels = {};
  for (let i = 0; i < names.length; i++) l[names[i]!] = values[i] ?? '';
  return l;
}

function register(name: string, help: string, type: MetricKind, aggregator: Merge, values: () => SampleJson[] | Promise<SampleJson[]>): void {
  if (!NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not a Prometheus name`);
  if (families.has(name)) throw new Error(`metric ${name} is registered twice`);
  families.set(name, { name, help, type, aggregator, values });
}
