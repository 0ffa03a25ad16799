/**
 * What the sweep view shows and exports, from a SweepRecord: the view message (sweepView), the CSV and
 * JSON exports, and the throttle that keeps updates to the page at most twice a second. Editor-free,
 * so it is unit-tested without VS Code (test/unit/sweepViewModel.test.ts).
 */
import { bestOfCurve, bestTrial, sweepProgressText } from '../core/sweep/sweepRecord';
import { formatMetricValue } from '../core/metricsProtocol';
import type { SweepRecord, SweepTrial } from '../core/sweep/sweepRecord';
import type { EarlyStoppingSpec, ParamSpec, ParamValue, Params } from '../core/sweep/sweepTypes';
import { MAX_CURVE, MAX_TEXT, MAX_TRIALS } from '../shared/sweepProtocol';
import type { CurveView, ParamView, ParamValueView, SweepView, TrialView } from '../shared/sweepProtocol';
import type { Scheduler } from './dashboardModel';
import { t } from './l10nText';

/** Texts within the protocol's limit; the view is for reading, so a clipped explanation loses little. */
function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

/** The protocol takes finite numbers only; a non-finite value (never expected) is shown as its text. */
function paramValueView(value: ParamValue): ParamValueView {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : typeof value === 'string' ? clip(value) : value;
}

function paramsView(params: Params): Record<string, ParamValueView> {
  const out: Record<string, ParamValueView> = {};
  for (const [name, value] of Object.entries(params)) {
    // defineProperty, not assignment: a key such as __proto__ (the definition refuses it) stays a plain key.
    Object.defineProperty(out, name, { value: paramValueView(value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function paramView(spec: ParamSpec): ParamView {
  if (spec.kind === 'choice') {
    return { name: spec.name, kind: 'choice', values: spec.values.map(paramValueView) };
  }
  const view: ParamView = { name: spec.name, kind: spec.kind, min: spec.min, max: spec.max };
  if (spec.log !== undefined) {
    view.log = spec.log;
  }
  return view;
}

/** The curve as columns: only finite points (the page refuses others), the newest MAX_CURVE of them. */
function curveView(trial: SweepTrial): CurveView {
  const points = trial.curve.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.value)).slice(-MAX_CURVE);
  return { step: points.map((p) => p.step), value: points.map((p) => p.value) };
}

export function trialView(trial: SweepTrial, goal: 'min' | 'max'): TrialView {
  const best = bestOfCurve(trial.curve, goal);
  const view: TrialView = {
    trial: trial.trial,
    state: trial.state,
    params: paramsView(trial.params),
    why: clip(trial.why),
    curve: curveView(trial),
    best: best !== undefined && Number.isFinite(best) ? best : null,
    jobId: clip(trial.jobId),
  };
  if (trial.stopWhy !== undefined) {
    view.stopWhy = clip(trial.stopWhy);
  }
  return view;
}

/** The early-stopping rule in words, for the header. */
export function ruleText(rule: EarlyStoppingSpec): string {
  switch (rule.rule) {
    case 'off':
      return t('No early stopping');
    case 'median':
      return t('Median rule: from step {0}, once {1} other trials reached the step', rule.graceSteps, rule.minTrials);
    case 'asha':
      return t('ASHA: rungs from step {0}, ×{1}, up to step {2}', rule.minSteps, rule.reduction, rule.maxSteps);
  }
}

/** "12 of 40 trials · 3.1 of 10 GPU-hours": what the budget allows and what was used of it. */
export function budgetText(record: SweepRecord): string {
  const { trials, gpuHours } = record.spec.budget;
  const parts: string[] = [];
  if (trials !== undefined) {
    parts.push(t('{0} of {1} trials', record.trials.length, trials));
  }
  if (gpuHours !== undefined) {
    const used = record.trials.reduce((sum, trial) => sum + (Number.isFinite(trial.gpuSec) ? trial.gpuSec : 0), 0) / 3600;
    parts.push(t('{0} of {1} GPU-hours', formatMetricValue(Number(used.toFixed(2))), gpuHours));
  }
  return parts.length > 0 ? parts.join(' · ') : t('No budget limit');
}

/** The whole view of one sweep, as the page draws it. */
export function sweepView(record: SweepRecord): SweepView {
  const { spec } = record;
  // A sweep of more than MAX_TRIALS trials (none is expected) shows its newest ones.
  const trials = record.trials.slice(-MAX_TRIALS).map((t) => trialView(t, spec.goal));
  const best = bestTrial(record);
  const bestNumber = best && trials.some((t) => t.trial === best.trial.trial) ? best.trial.trial : null;
  const view: SweepView = {
    id: clip(record.id),
    name: clip(spec.name),
    status: record.status,
    metric: clip(spec.metric),
    goal: spec.goal,
    strategy: spec.strategy,
    rule: ruleText(spec.earlyStopping),
    budget: budgetText(record),
    progress: clip(sweepProgressText(record)),
    params: spec.params.map(paramView),
    trials,
    bestTrial: bestNumber,
  };
  if (record.reason !== undefined) {
    view.reason = clip(record.reason);
  }
  return view;
}

// --- export --------------------------------------------------------------------------------------

/**
 * One CSV field, quoted per RFC 4180 (a field with a comma, quote or line break is quoted, quotes
 * doubled). Guard against CSV formula injection: a spreadsheet runs a cell that starts with = + - @
 * (or a tab or carriage return, which some read past) as a formula, so such a *string* gets a leading
 * apostrophe and reads as text. Numbers are left alone, so a negative metric stays a number.
 */
export function sweepCsvField(value: string | number | boolean | undefined | null): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) {
    text = `'${text}`;
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One row per trial: trial, state, each parameter (a column per parameter of the sweep, in its order),
 * the best metric value (named after the metric), the last step reported, and why it was stopped early.
 */
export function sweepCsv(record: SweepRecord): string {
  const names = record.spec.params.map((p) => p.name);
  const header = ['trial', 'state', ...names, `best_${record.spec.metric}`, 'steps', 'stopped_early'];
  const rows = record.trials.map((t) => {
    const best = bestOfCurve(t.curve, record.spec.goal);
    const last = t.curve.length > 0 ? t.curve[t.curve.length - 1].step : undefined;
    return [t.trial, t.state, ...names.map((n) => t.params[n]), best, last, t.stopWhy];
  });
  return [header, ...rows].map((row) => row.map(sweepCsvField).join(',')).join('\r\n') + '\r\n';
}

export interface SweepDocument {
  format: 'trainq-sweep';
  version: 1;
  /** The best trial and its value, for scripts that want only that; null before any report. */
  best: { trial: number; value: number } | null;
  /** The record as stored: definition, status and every trial with its curve. */
  sweep: SweepRecord;
}

/** The whole sweep as one JSON document; JSON.parse gives back the record unchanged (under `sweep`). */
export function sweepJson(record: SweepRecord): string {
  const best = bestTrial(record);
  const document: SweepDocument = {
    format: 'trainq-sweep',
    version: 1,
    best: best ? { trial: best.trial.trial, value: best.value } : null,
    sweep: record,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

// --- refresh throttle ----------------------------------------------------------------------------

export const REFRESH_INTERVAL_MS = 500;

const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * Calls `flush` at most once per interval: the first request after a quiet period goes out at once,
 * requests during the interval become one call at its end (a burst of metric reports is one update).
 */
export class RefreshThrottle {
  private timer: unknown;
  private lastFlush = -Infinity;
  private pending = false;

  constructor(
    private readonly flush: () => void,
    private readonly intervalMs = REFRESH_INTERVAL_MS,
    private readonly scheduler: Scheduler = realScheduler,
  ) {}

  request(): void {
    this.pending = true;
    if (this.timer !== undefined) {
      return;
    }
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.scheduler.now());
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.emit();
    }, wait);
  }

  /** Drops a pending request (a full snapshot was just sent). */
  cancel(): void {
    this.pending = false;
    if (this.timer !== undefined) {
      this.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private emit(): void {
    if (!this.pending) {
      return;
    }
    this.pending = false;
    this.lastFlush = this.scheduler.now();
    this.flush();
  }

  dispose(): void {
    this.cancel();
  }
}
