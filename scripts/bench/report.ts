/** Summaries of repeated measurements and the plain-text table the benchmarks print. */

export interface Summary {
  n: number;
  median: number;
  /** Nearest-rank 95th percentile: with 20 samples, the second largest. */
  p95: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) {
    return { n, median: NaN, p95: NaN, min: NaN, max: NaN };
  }
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const p95 = sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)];
  return { n, median, p95, min: sorted[0], max: sorted[n - 1] };
}

export type Verdict = 'PASS' | 'FAIL' | 'info' | 'INVALID';

export interface Row {
  id: string;
  metric: string;
  value: string;
  target: string;
  verdict: Verdict;
  /** Raw figures for the JSON report. */
  data: Record<string, unknown>;
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a';
}

/** "12.3 ms median (p95 14.0, n=20)" or, for few samples, "(min–max 11.9–14.0, n=7)". */
export function describeMs(s: Summary, spread: 'p95' | 'range'): string {
  const detail = spread === 'p95' ? `p95 ${ms(s.p95)}` : `${ms(s.min)}–${ms(s.max)}`;
  return `${ms(s.median)} median (${detail}, n=${s.n})`;
}

export function atMost(value: number, limit: number): Verdict {
  return Number.isFinite(value) ? (value <= limit ? 'PASS' : 'FAIL') : 'INVALID';
}

export function formatTable(rows: readonly Row[]): string {
  const header = { metric: 'metric', value: 'value', target: 'target', verdict: 'verdict' };
  const all = [header, ...rows];
  const width = (key: keyof typeof header) => Math.max(...all.map((r) => r[key].length));
  const w = { metric: width('metric'), value: width('value'), target: width('target') };
  const line = (r: typeof header) => `${r.metric.padEnd(w.metric)}  ${r.value.padEnd(w.value)}  ${r.target.padEnd(w.target)}  ${r.verdict}`;
  const rule = '-'.repeat(line(header).length);
  return [line(header), rule, ...rows.map(line)].join('\n');
}
