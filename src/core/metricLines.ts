/**
 * The line formats of the metrics protocol (metricsProtocol.ts keeps what they report): how any job
 * reports metrics to TrainQ, whatever it runs on: either lines on stdout
 *
 *     trainq:metric val_acc=0.981 loss=0.05 step=7
 *
 * or JSON lines appended to the file named by TRAINQ_METRICS_FILE
 *
 *     {"val_acc": 0.981, "loss": 0.05, "step": 7}
 *
 * Both are written by code we do not control and read back from logs anyone can print to, so every
 * line is treated as hostile: names must look like metric names (and can never be `__proto__` and
 * friends), values must be finite decimal numbers, and size is bounded per line (reading the files by whole lines is metricsFollower.ts's).
 * A line with some bad pairs keeps its good ones: one typo must not lose a whole epoch's report, and
 * a bad pair can only ever be left out, never change another pair's meaning.
 */

/** One line's report: the values by metric name (a null-prototype object) and the step it gave, if any. */
export interface MetricReport {
  step?: number;
  values: Record<string, number>;
}

/** The stdout marker. Only whitespace may precede it, so a quoted or prefixed echo of it is not a report. */
export const METRIC_LINE_PREFIX = 'trainq:metric';
/** Longer lines are ignored whole: no real report needs them, and they bound a reader's memory. */
export const MAX_METRIC_LINE_CHARS = 4096;
/** Pairs beyond this many on one line are ignored. */
export const MAX_VALUES_PER_LINE = 32;
/** Reserved name carrying the step rather than a metric. */
export const STEP_NAME = 'step';

/** Letters, digits and `_ . - /`, starting with a letter or `_`, at most 64 characters. */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_./-]{0,63}$/;
/** Plain decimal notation only: no hex, no `Infinity`, no `1_000`, no empty string. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DIGITS = /^\d{1,16}$/;

/**
 * A metric name we accept: the safe pattern, and not a name Object.prototype carries (`__proto__`,
 * `constructor`, `toString`…): our own objects have no prototype, but whoever copies them into a
 * plain object later must not be surprised either.
 */
export function isSafeMetricName(name: string): boolean {
  return SAFE_NAME.test(name) && !(name in Object.prototype) && name !== 'prototype' && name !== STEP_NAME;
}

/** A finite number written in plain decimal, or undefined (`1e999` overflows to Infinity and is refused). */
function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) {
    return undefined;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A step is a non-negative safe integer. */
export function isValidStep(step: unknown): step is number {
  return typeof step === 'number' && Number.isSafeInteger(step) && step >= 0;
}

/** Collects pairs with the caps applied; the first MAX_VALUES_PER_LINE distinct names win, a repeated name takes its last value. */
class ReportBuilder {
  private readonly values: Record<string, number> = Object.create(null) as Record<string, number>;
  private count = 0;
  private step: number | undefined;

  addValue(name: string, value: number): void {
    if (!(name in this.values)) {
      if (this.count >= MAX_VALUES_PER_LINE) {
        return;
      }
      this.count++;
    }
    this.values[name] = value;
  }

  setStep(step: number): void {
    this.step = step;
  }

  /** Undefined when no value survived: a line with only a step (or nothing good) reports nothing. */
  build(): MetricReport | undefined {
    if (this.count === 0) {
      return undefined;
    }
    return this.step === undefined ? { values: this.values } : { step: this.step, values: this.values };
  }
}

/**
 * One stdout line (a trailing `\r` is tolerated) → its report, or undefined when it is not a report
 * or nothing in it is usable. A malformed step is ignored like any bad pair: the values then get
 * the next step of their series (see recordMetrics), which is what a report without a step means.
 */
export function parseMetricLine(line: string): MetricReport | undefined {
  if (line.length > MAX_METRIC_LINE_CHARS) {
    return undefined;
  }
  const text = line.trim();
  if (!text.startsWith(METRIC_LINE_PREFIX)) {
    return undefined;
  }
  const rest = text.slice(METRIC_LINE_PREFIX.length);
  // `trainq:metricsfoo=1` is some other word, not our marker.
  if (rest.length > 0 && !/^\s/.test(rest)) {
    return undefined;
  }
  const builder = new ReportBuilder();
  for (const token of rest.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      continue;
    }
    const name = token.slice(0, eq);
    const raw = token.slice(eq + 1);
    if (name === STEP_NAME) {
      if (DIGITS.test(raw) && isValidStep(Number(raw))) {
        builder.setStep(Number(raw));
      }
      continue;
    }
    const value = parseDecimal(raw);
    if (value !== undefined && isSafeMetricName(name)) {
      builder.addValue(name, value);
    }
  }
  return builder.build();
}

/**
 * One JSON line → its report. Only top-level finite numbers count: strings (even numeric ones),
 * booleans, nulls, arrays and nested objects are ignored, so a script can log other fields alongside.
 * JSON.parse makes `"__proto__"` an own key rather than a prototype, and the name check refuses it.
 */
export function parseMetricJsonLine(line: string): MetricReport | undefined {
  if (line.length > MAX_METRIC_LINE_CHARS) {
    return undefined;
  }
  const text = line.trim();
  if (!text.startsWith('{')) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return undefined;
  }
  const builder = new ReportBuilder();
  for (const [name, value] of Object.entries(parsed)) {
    if (name === STEP_NAME) {
      if (isValidStep(value)) {
        builder.setStep(value);
      }
    } else if (typeof value === 'number' && Number.isFinite(value) && isSafeMetricName(name)) {
      builder.addValue(name, value);
    }
  }
  return builder.build();
}

/** A metric value for people: 3–4 significant digits, exponent notation outside [0.001, 10 000). */
export function formatMetricValue(value: number): string {
  if (value === 0) {
    return '0';
  }
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) {
    return value.toExponential(2).replace(/\.?0+e/, 'e');
  }
  return stripTrailingZeros(value.toPrecision(4));
}

function stripTrailingZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
