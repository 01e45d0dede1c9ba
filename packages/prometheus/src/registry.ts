/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text exposition
 * format 0.0.4 that Prometheus scrapes. Hand-written (≈150 lines) instead of prom-client, which drags in a tree.
 * Shared by wrenn-cp and wrenn-agent.
 */

/** Content-Type of the exposition. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values by label name. */
export type Labels = Readonly<Record<string, string | number>>;

/** Default histogram buckets for durations in seconds (requests to VM boots under TCG). */
export const DEFAULT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Kind = "counter" | "gauge" | "histogram";

interface Family {
  name: string;
  help: string;
  kind: Kind;
  labelNames: readonly string[];
  render(out: string[]): void;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const formatNumber = (v: number) =>
  Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);

function labelKey(labelNames: readonly string[], labels: Labels): string {
  // Keyed by the declared label order so {a,b} and {b,a} are one series; unknown labels are a programming error.
  for (const k of Object.keys(labels)) {
    if (!labelNames.includes(k)) throw new Error(`unknown label "${k}"`);
  }
  return JSON.stringify(labelNames.map((n) => String(labels[n] ?? "")));
}

function renderLabels(labelNames: readonly string[], key: string, extra?: [string, string]): string {
  const values = JSON.parse(key) as string[];
  const parts = labelNames.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A monotonically increasing count (requests, errors). */
export class Counter {
  private readonly values = new Map<string, number>();
  constructor(private readonly labelNames: readonly string[]) {}
  /** Adds `by` (default 1, must be ≥ 0) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error("a counter cannot decrease");
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** Current value of one series (0 when never touched); for tests and logs. */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  /** @internal */
  render(name: string, out: string[]): void {
    for (const [k, v] of this.values) out.push(`${name}${renderLabels(this.labelNames, k)} ${formatNumber(v)}`);
  }
}

/** A value that goes up and down (capsules by state). `reset()` drops every series before a fresh collect. */
export class Gauge {
  private readonly values = new Map<string, number>();
  constructor(private readonly labelNames: readonly string[]) {}
  set(labels: Labels, value: number): void {
    this.values.set(labelKey(this.labelNames, labels), value);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  reset(): void {
    this.values.clear();
  }
  /** @internal */
  render(name: string, out: string[]): void {
    for (const [k, v] of this.values) out.push(`${name}${renderLabels(this.labelNames, k)} ${formatNumber(v)}`);
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

/** Distribution of observations (latencies, boot times) in cumulative buckets. */
export class Histogram {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly buckets: readonly number[];
  constructor(
    private readonly labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(labels: Labels, value: number): void {
    const k = labelKey(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
  /** Number of observations of one series; for tests. */
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(this.labelNames, labels))?.count ?? 0;
  }
  /** @internal */
  render(name: string, out: string[]): void {
    for (const [k, s] of this.series) {
      this.buckets.forEach((b, i) => {
        out.push(`${name}_bucket${renderLabels(this.labelNames, k, ["le", formatNumber(b)])} ${s.counts[i]}`);
      });
      out.push(`${name}_bucket${renderLabels(this.labelNames, k, ["le", "+Inf"])} ${s.count}`);
      out.push(`${name}_sum${renderLabels(this.labelNames, k)} ${formatNumber(s.sum)}`);
      out.push(`${name}_count${renderLabels(this.labelNames, k)} ${s.count}`);
    }
  }
}

/** Holds metric families and renders them; `onCollect` callbacks refresh gauges just before each scrape. */
export class PromRegistry {
  private readonly families: Family[] = [];
  private readonly collectors: Array<() => void | Promise<void>> = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const m = new Counter(labelNames);
    this.add({ name, help, kind: "counter", labelNames, render: (out) => m.render(name, out) });
    return m;
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const m = new Gauge(labelNames);
    this.add({ name, help, kind: "gauge", labelNames, render: (out) => m.render(name, out) });
    return m;
  }
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets = DEFAULT_SECONDS_BUCKETS,
  ): Histogram {
    const m = new Histogram(labelNames, buckets);
    this.add({ name, help, kind: "histogram", labelNames, render: (out) => m.render(name, out) });
    return m;
  }
  /** Registers a callback run before every `expose()` (for values read on demand, like capsules by state). */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  /** Runs the collectors, then renders every family in the text format. */
  async expose(): Promise<string> {
    for (const c of this.collectors) await c();
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.kind}`);
      f.render(out);
    }
    return `${out.join("\n")}\n`;
  }

  private add(f: Family): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.name)) throw new Error(`invalid metric name "${f.name}"`);
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric "${f.name}" registered twice`);
    this.families.push(f);
  }
}
