/**
 * A sweep as it is saved with the store: its definition, where it stands, and one record per trial.
 * Trials keep their own copy of the sweep metric's curve (bounded), because the jobs they ran as may
 * leave the history (Clear Finished) while the search must still learn from them; a reloaded sweep
 * rebuilds its strategy from these records alone.
 */
import { formatMetricValue } from '../metricLines';
import type { MetricPoint, Params, SweepSpec, TrialRecord, TrialState } from './sweepTypes';
import { bestLossUpTo, valueOfLoss } from './trialScore';

export type SweepStatus = 'running' | 'paused' | 'stopped' | 'finished';

export interface SweepTrial {
  trial: number;
  /** The job the trial runs as (the latest retry, when trainq.retries queued one). */
  jobId: string;
  params: Params;
  /** The strategy's explanation of these values. */
  why: string;
  state: TrialState;
  /** The sweep metric's reports (thinned to MAX_CURVE_POINTS). */
  curve: MetricPoint[];
  /** GPU-seconds the trial used so far (GPUs × run time), for a GPU-hour budget. */
  gpuSec: number;
  /** Why it was stopped early, when it was. */
  stopWhy?: string;
}

export interface SweepRecord {
  id: string;
  spec: SweepSpec;
  status: SweepStatus;
  createdAt: number;
  endedAt?: number;
  /** Why the sweep ended or waits ("budget of 40 trials used", "stopped by you"). */
  reason?: string;
  trials: SweepTrial[];
}

/** A trial keeps its curve thinned to about this many points (the job keeps up to 500). */
export const MAX_CURVE_POINTS = 200;

/** What the strategies and stopping rules see of a sweep's trials. */
export function trialRecords(sweep: SweepRecord): TrialRecord[] {
  return sweep.trials.map((t) => ({ trial: t.trial, params: t.params, state: t.state, curve: t.curve }));
}

export function isActiveTrial(t: SweepTrial): boolean {
  return t.state === 'queued' || t.state === 'running';
}

/** The best value a curve reached for the goal; undefined for an empty curve. */
export function bestOfCurve(curve: readonly MetricPoint[], goal: 'min' | 'max'): number | undefined {
  const loss = bestLossUpTo(curve, goal);
  return loss === undefined ? undefined : valueOfLoss(loss, goal);
}

/** The trial with the best value so far, and that value; undefined before any report. */
export function bestTrial(sweep: SweepRecord): { trial: SweepTrial; value: number } | undefined {
  let best: { trial: SweepTrial; value: number } | undefined;
  for (const trial of sweep.trials) {
    const value = bestOfCurve(trial.curve, sweep.spec.goal);
    if (value !== undefined && (!best || (sweep.spec.goal === 'max' ? value > best.value : value < best.value))) {
      best = { trial, value };
    }
  }
  return best;
}

/** "12/40 trials · best val_acc 0.981 (trial 7)": the sweep's line in the Job Queue. */
export function sweepProgressText(sweep: SweepRecord): string {
  const done = sweep.trials.filter((t) => !isActiveTrial(t)).length;
  const of = sweep.spec.budget.trials !== undefined ? `/${sweep.spec.budget.trials}` : '';
  const best = bestTrial(sweep);
  const bestText = best ? ` · best ${sweep.spec.metric} ${formatMetricValue(best.value)} (trial ${best.trial.trial})` : '';
  return `${done}${of} trials${bestText}`;
}
