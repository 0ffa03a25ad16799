/**
 * What the priority classifier sees of a job: the limits on each feature, their validation, the
 * numeric encoding the tree is trained on, and how a split on each feature reads in a tooltip.
 * The UI validates input with the same limits, so whatever an input box accepts the classifier accepts.
 */
import type { Importance, JobFeatures } from './job';
import { IMPORTANCES } from './job';
import { formatDuration } from './duration';

export const MIN_GPUS = 0;
/** More than any single host has; a larger count is a typo, and it would distort the tree's splits. */
export const MAX_GPUS = 64;
export const MIN_RUNTIME_SEC = 60;
export const MAX_RUNTIME_SEC = 30 * 86_400;
export const MIN_GAIN_PCT = 0;
export const MAX_GAIN_PCT = 100;
/**
 * Stands in for an expected gain the user didn't give: a modest improvement, well below the 20% from
 * which the default policy raises a job, so a missing estimate neither helps nor hurts a job.
 */
export const NEUTRAL_GAIN_PCT = 5;

export class FeatureError extends Error {
  constructor(
    readonly field: keyof JobFeatures,
    message: string,
  ) {
    super(message);
    this.name = 'FeatureError';
  }
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function checkGpus(gpus: unknown): asserts gpus is number {
  if (typeof gpus !== 'number' || !Number.isInteger(gpus) || gpus < MIN_GPUS || gpus > MAX_GPUS) {
    throw new FeatureError('gpus', `GPUs (gpus) must be a whole number from ${MIN_GPUS} to ${MAX_GPUS} (got ${shown(gpus)}).`);
  }
}

export function checkRuntimeSec(runtimeSec: unknown): asserts runtimeSec is number {
  if (typeof runtimeSec !== 'number' || !Number.isFinite(runtimeSec) || runtimeSec < MIN_RUNTIME_SEC || runtimeSec > MAX_RUNTIME_SEC) {
    const got = typeof runtimeSec === 'number' && Number.isFinite(runtimeSec) ? formatDuration(runtimeSec) : shown(runtimeSec);
    throw new FeatureError(
      'runtimeSec',
      `Runtime must be between ${formatDuration(MIN_RUNTIME_SEC)} and ${formatDuration(MAX_RUNTIME_SEC)} (got ${got}).`,
    );
  }
}

export function checkExpectedGain(expectedGain: unknown): asserts expectedGain is number | undefined {
  if (expectedGain === undefined) {
    return;
  }
  if (typeof expectedGain !== 'number' || !Number.isFinite(expectedGain) || expectedGain < MIN_GAIN_PCT || expectedGain > MAX_GAIN_PCT) {
    throw new FeatureError(
      'expectedGain',
      `Expected gain must be a percentage from ${MIN_GAIN_PCT} to ${MAX_GAIN_PCT}, or left out (got ${shown(expectedGain)}).`,
    );
  }
}

export function checkImportance(importance: unknown): asserts importance is Importance {
  if (!IMPORTANCES.includes(importance as Importance)) {
    throw new FeatureError('importance', `Importance must be one of ${IMPORTANCES.join(', ')} (got ${shown(importance)}).`);
  }
}

/** Throws FeatureError naming the first field out of range. */
export function validateFeatures(f: JobFeatures): void {
  checkGpus(f.gpus);
  checkImportance(f.importance);
  checkExpectedGain(f.expectedGain);
  checkRuntimeSec(f.runtimeSec);
}

/** The columns of an encoded feature vector, in order. */
export const FEATURE_COLUMNS = ['gpus', 'importance', 'gain', 'runtime'] as const;
export type FeatureColumn = (typeof FEATURE_COLUMNS)[number];

const IMPORTANCE_CODE: Readonly<Record<Importance, number>> = { low: 0, normal: 1, high: 2 };

/**
 * Runtime is encoded as log2 of hours. A tree only compares values, so the scale changes nothing but
 * where a learned threshold falls between two examples: on a log scale it is their geometric mean
 * (between 1h and 4h the cut is at 2h, not 2h 30m), which matches how people think of durations, and
 * "20% longer" is the same distance whether the job takes 10 minutes or 10 hours.
 */
function encodeRuntime(runtimeSec: number): number {
  return Math.log2(runtimeSec / 3_600);
}

function decodeRuntime(encoded: number): number {
  return 2 ** encoded * 3_600;
}

/** The vector the tree sees: [gpus, importance 0–2, gain %, log2 runtime hours]. Validate first. */
export function encodeFeatures(f: JobFeatures): number[] {
  return [f.gpus, IMPORTANCE_CODE[f.importance], f.expectedGain ?? NEUTRAL_GAIN_PCT, encodeRuntime(f.runtimeSec)];
}

function formatPercent(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

/**
 * How "lower ≤ value < upper" on one encoded column reads to a user; either bound may be missing.
 * Integer features get integer bounds (gpus < 3.5 reads "gpus ≤ 3"), importance reads as names.
 * `input` lets the text say when the job's gain was not given and the neutral value was used.
 */
export function describeInterval(column: number, lower: number | undefined, upper: number | undefined, input?: JobFeatures): string {
  switch (FEATURE_COLUMNS[column]) {
    case 'gpus': {
      const lo = lower === undefined ? undefined : Math.ceil(lower);
      const hi = upper === undefined ? undefined : Math.ceil(upper) - 1;
      if (hi !== undefined && (lo ?? MIN_GPUS) === hi) {
        return `gpus = ${hi}`;
      }
      if (lo !== undefined && hi !== undefined) {
        return `${lo} ≤ gpus ≤ ${hi}`;
      }
      return lo !== undefined ? `gpus ≥ ${lo}` : `gpus ≤ ${hi}`;
    }
    case 'importance': {
      const names = IMPORTANCES.filter((name) => {
        const code = IMPORTANCE_CODE[name];
        return (lower === undefined || code >= lower) && (upper === undefined || code < upper);
      });
      return `importance ${names.join(' or ')}`;
    }
    case 'gain': {
      const note = input !== undefined && input.expectedGain === undefined ? ` (none given, counted as ${NEUTRAL_GAIN_PCT}%)` : '';
      return boundsText('gain', lower, upper, formatPercent) + note;
    }
    case 'runtime':
      return boundsText('runtime', lower, upper, (v) => formatDuration(decodeRuntime(v)));
    default:
      throw new RangeError(`No feature column ${column}.`);
  }
}

function boundsText(name: string, lower: number | undefined, upper: number | undefined, format: (v: number) => string): string {
  if (lower !== undefined && upper !== undefined) {
    return `${format(lower)} ≤ ${name} < ${format(upper)}`;
  }
  return lower !== undefined ? `${name} ≥ ${format(lower)}` : `${name} < ${format(upper as number)}`;
}
