/** Percentiles and the one-line figure format the benchmarks print. */

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

/** Prints `label  p50 … ms  p95 … ms  (n=…)`, the label padded to `width`. */
export function printLatencies(label: string, xs: readonly number[], width = 44, digits = 0): void {
  const f = (p: number) => percentile(xs, p).toFixed(digits);
  console.log(`${label.padEnd(width)} p50 ${f(50)} ms  p95 ${f(95)} ms  (n=${xs.length})`);
}
