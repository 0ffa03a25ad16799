/**
 * The metrics protocol: how any job reports metrics (the line formats, parsed in metricLines.ts and
 * re-exported here, so the rest of TrainQ imports one module) and what is kept of them with the job:
 * per metric name a bounded series of points and the latest value. Plain JSON data (the store
 * persists it). Objects keyed by metric name have no prototype, so no name can reach Object.prototype;
 * JSON.stringify writes them as usual and validateJobMetrics rebuilds them so when reading back.
 */
import type { MetricPoint } from './metricPoint';
import { formatMetricValue, isSafeMetricName, isValidStep } from './metricLines';
import type { MetricReport } from './metricLines';

export {
  MAX_METRIC_LINE_CHARS,
  MAX_VALUES_PER_LINE,
  METRIC_LINE_PREFIX,
  formatMetricValue,
  isSafeMetricName,
  parseMetricJsonLine,
  parseMetricLine,
} from './metricLines';
export type { MetricReport } from './metricLines';

export interface JobMetrics {
  /** Per metric name, in the order first reported: its points in increasing step order. */
  series: Record<string, MetricPoint[]>;
  /** Per metric name: its most recent value (also the last point of its series). */
  latest: Record<string, number>;
  /** When the last report that changed anything was recorded (ms since the epoch). */
  updatedMs?: number;
}

/** Metric names kept per job; names first reported after that many are ignored. */
export const MAX_METRIC_NAMES = 32;
/** Points kept per metric before the series is thinned. */
export const MAX_SERIES_POINTS = 500;
/** Metrics a job row shows. */
const ROW_METRICS = 3;

function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function emptyJobMetrics(): JobMetrics {
  return { series: nameMap(), latest: nameMap() };
}

/**
 * Adds a report's values; true when anything changed. A value without a step gets its series' last
 * step + 1 (1 for a first report, so the n-th report of a step-less script is step n). A step at or
 * before the series' last one means the script went back, say resumed from a checkpoint: the points
 * from that step on are replaced, keeping the series in step order as the stopping rules need it.
 */
export function recordMetrics(metrics: JobMetrics, report: MetricReport, atMs: number): boolean {
  let changed = false;
  for (const [name, value] of Object.entries(report.values)) {
    // Reports normally come from the parsers, but the store is the last line of defence.
    if (!isSafeMetricName(name) || !Number.isFinite(value)) {
      continue;
    }
    let points = metrics.series[name];
    if (!points) {
      if (Object.keys(metrics.series).length >= MAX_METRIC_NAMES) {
        continue;
      }
      points = metrics.series[name] = [];
    }
    const last = points.at(-1);
    const step = report.step !== undefined && isValidStep(report.step) ? report.step : last ? last.step + 1 : 1;
    if (!isValidStep(step) || (last && last.step === step && last.value === value)) {
      continue;
    }
    while (points.length > 0 && points[points.length - 1].step >= step) {
      points.pop();
    }
    points.push({ step, value });
    if (points.length > MAX_SERIES_POINTS) {
      metrics.series[name] = thin(points);
    }
    metrics.latest[name] = value;
    changed = true;
  }
  if (changed) {
    metrics.updatedMs = atMs;
  }
  return changed;
}

/**
 * Halves a full series, evenly over steps: walking from the first point, a point is kept when it lies
 * at least span ÷ (MAX_SERIES_POINTS / 2) steps after the last one kept, and the last point always is.
 * Plain "every other point" would halve the old stretch again at every thinning (after a few, the
 * start of a long run is one point in 64); spacing by steps keeps the whole curve's shape at one
 * resolution, and the latest value (what the stopping rules judge) is never lost.
 */
export function thin(points: readonly MetricPoint[], maxPoints = MAX_SERIES_POINTS): MetricPoint[] {
  const first = points[0];
  const last = points[points.length - 1];
  const spacing = (last.step - first.step) / (maxPoints / 2);
  const kept: MetricPoint[] = [first];
  for (let i = 1; i < points.length - 1; i++) {
    if (points[i].step - kept[kept.length - 1].step >= spacing) {
      kept.push(points[i]);
    }
  }
  kept.push(last);
  return kept;
}

/**
 * A job row's summary, `val_acc 0.981 · loss 0.05 (step 7)`: the preferred metric first (the sweep's
 * metric), then the others in the order first reported, three at most; the step is the first one's.
 * Empty when nothing was reported.
 */
export function latestText(metrics: JobMetrics, preferred?: string): string {
  const names = Object.keys(metrics.latest);
  if (preferred !== undefined && preferred in metrics.latest) {
    names.splice(names.indexOf(preferred), 1);
    names.unshift(preferred);
  }
  const shown = names.slice(0, ROW_METRICS);
  if (shown.length === 0) {
    return '';
  }
  const parts = shown.map((name) => `${name} ${formatMetricValue(metrics.latest[name])}`);
  const step = metrics.series[shown[0]]?.at(-1)?.step;
  return `${parts.join(' · ')}${step === undefined ? '' : ` (step ${step})`}`;
}

/**
 * Markdown for a job's tooltip: every metric with its latest value, step and points kept. Names go in
 * code spans (they cannot hold a backtick), so `_` and `.` in them are never read as Markdown.
 */
export function metricsTooltip(metrics: JobMetrics): string {
  const lines = Object.keys(metrics.latest).map((name) => {
    const points = metrics.series[name] ?? [];
    const step = points.at(-1)?.step;
    const at = step === undefined ? '' : ` at step ${step}`;
    return `- \`${name}\` ${formatMetricValue(metrics.latest[name])}${at} (${points.length} ${points.length === 1 ? 'point' : 'points'} kept)`;
  });
  return lines.length === 0 ? '' : ['**Metrics**', '', ...lines].join('\n');
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(raw);
  return proto === Object.prototype || proto === null;
}

/** A stored series as recordMetrics could have left it: 1 to MAX_SERIES_POINTS points, steps increasing. */
function validSeries(raw: unknown): MetricPoint[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_SERIES_POINTS) {
    return undefined;
  }
  const points: MetricPoint[] = [];
  for (const item of raw) {
    if (!isPlainObject(item) || !isValidStep(item.step) || typeof item.value !== 'number' || !Number.isFinite(item.value)) {
      return undefined;
    }
    if (points.length > 0 && item.step <= points[points.length - 1].step) {
      return undefined;
    }
    points.push({ step: item.step, value: item.value });
  }
  return points;
}

/**
 * Metrics read back from disk, checked as strictly as recordMetrics builds them and copied into fresh
 * objects; undefined when anything is off (the job then shows no metrics until its next report), never
 * a throw: a damaged metrics record must not cost the job.
 */
export function validateJobMetrics(raw: unknown): JobMetrics | undefined {
  if (!isPlainObject(raw) || !isPlainObject(raw.series) || !isPlainObject(raw.latest)) {
    return undefined;
  }
  const names = Object.keys(raw.series);
  if (names.length > MAX_METRIC_NAMES || Object.keys(raw.latest).length !== names.length) {
    return undefined;
  }
  const metrics = emptyJobMetrics();
  for (const name of names) {
    const points = isSafeMetricName(name) ? validSeries(raw.series[name]) : undefined;
    const latest = Object.prototype.hasOwnProperty.call(raw.latest, name) ? raw.latest[name] : undefined;
    if (!points || typeof latest !== 'number' || !Number.isFinite(latest)) {
      return undefined;
    }
    metrics.series[name] = points;
    metrics.latest[name] = latest;
  }
  if (raw.updatedMs !== undefined) {
    if (typeof raw.updatedMs !== 'number' || !Number.isFinite(raw.updatedMs) || raw.updatedMs < 0) {
      return undefined;
    }
    metrics.updatedMs = raw.updatedMs;
  }
  return metrics;
}
