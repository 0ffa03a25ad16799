/**
 * Early stopping for sweep trials: after each new report of a running trial's sweep metric, whether
 * to stop it now, with why in words. Rules are pure functions of the trials as recorded (no memory of
 * their own), so a reloaded sweep decides exactly as before and the order of `all` never matters.
 *
 * - median: Google Vizier's median stopping rule, the way Optuna's MedianPruner applies it.
 * - asha: asynchronous successive halving as a stopping rule (the way Ray Tune's ASHA scheduler
 *   stops trials rather than pausing them).
 */
import { formatMetricValue } from '../metricLines';
import type { EarlyStoppingSpec, Goal, MetricPoint, StopDecision, TrialRecord, TrialState } from './sweepTypes';

export interface StopRule {
  decide(trial: TrialRecord, all: readonly TrialRecord[]): StopDecision;
}

/** Trials whose curves the median rule compares against: they ran to their end. */
const SETTLED_STATES: ReadonlySet<TrialState> = new Set(['succeeded', 'stopped']);
/** Far more rungs than any sweep needs; bounds the loop for a spec with huge maxSteps. */
const MAX_RUNGS = 64;

/** `metric` names the sweep metric in the decisions' words. */
export function createStopRule(spec: EarlyStoppingSpec, goal: Goal, metric = 'the metric'): StopRule {
  const better = (a: number, b: number): boolean => (goal === 'max' ? a > b : a < b);
  switch (spec.rule) {
    case 'off':
      return { decide: () => ({ stop: false, why: 'early stopping is off' }) };
    case 'median':
      return { decide: (trial, all) => decideMedian(spec.graceSteps, spec.minTrials, better, metric, trial, all) };
    case 'asha': {
      const rungs = ashaRungs(spec.minSteps, spec.reduction, spec.maxSteps);
      const reduction = Math.max(2, Math.floor(spec.reduction));
      return { decide: (trial, all) => decideAsha(rungs, reduction, better, metric, trial, all) };
    }
  }
}

/**
 * minSteps·reduction^k for k = 0, 1, … below maxSteps. A rung at maxSteps itself is left out (as Ray
 * Tune's ASHA does): a trial there has finished its budget, so stopping it saves nothing and would only
 * mislabel a finished trial as stopped. A spec too odd to give rungs (reduction < 2) gets one rung.
 */
export function ashaRungs(minSteps: number, reduction: number, maxSteps: number): number[] {
  const rungs: number[] = [];
  const factor = Math.floor(reduction);
  for (let rung = Math.max(1, Math.ceil(minSteps)); rung < maxSteps && rungs.length < MAX_RUNGS; rung *= factor) {
    rungs.push(rung);
    if (factor < 2) {
      break;
    }
  }
  return rungs;
}

/** The curve's value at the largest step ≤ step (curves are thinned and steps may skip), or undefined. */
export function valueAtOrBefore(curve: readonly MetricPoint[], step: number): number | undefined {
  let found: MetricPoint | undefined;
  for (const point of curve) {
    if (point.step <= step && (!found || point.step >= found.step)) {
      found = point;
    }
  }
  return found?.value;
}

function lastStep(curve: readonly MetricPoint[]): number | undefined {
  return curve.length === 0 ? undefined : Math.max(...curve.map((p) => p.step));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * At the trial's latest step s (once s ≥ graceSteps): stop when its best value so far is worse than
 * the median, over the other succeeded or stopped trials that reached step s, of their value at the
 * largest step ≤ s. Optuna takes each trial's value at exactly step s; a thinned or step-skipping
 * curve may lack that step, and its last value before s is what it had reached by then, so no
 * interpolation is invented. Running trials are left out, as Optuna does: their curves are still
 * moving, and including them would make the verdict depend on who happens to be ahead right now.
 * Failed trials are left out too: a curve that diverged and crashed would drag the median down.
 */
function decideMedian(
  graceSteps: number,
  minTrials: number,
  better: (a: number, b: number) => boolean,
  metric: string,
  trial: TrialRecord,
  all: readonly TrialRecord[],
): StopDecision {
  const step = lastStep(trial.curve);
  if (step === undefined) {
    return { stop: false, why: `no ${metric} reported yet` };
  }
  if (step < graceSteps) {
    return { stop: false, why: `step ${step} is within the grace period of ${graceSteps} steps` };
  }
  const others: number[] = [];
  for (const other of all) {
    const reached = lastStep(other.curve);
    // A curve that starts after step s (its script's first step was later) has no value to compare.
    const value = other.trial !== trial.trial && SETTLED_STATES.has(other.state) && reached !== undefined && reached >= step ? valueAtOrBefore(other.curve, step) : undefined;
    if (value !== undefined) {
      others.push(value);
    }
  }
  const needed = Math.max(1, minTrials);
  if (others.length < needed) {
    return { stop: false, why: `only ${others.length} finished trials reached step ${step}, the median rule waits for ${needed}` };
  }
  const best = trial.curve.reduce((b, p) => (better(p.value, b) ? p.value : b), trial.curve[0].value);
  const mid = median(others);
  const numbers = `${metric} ${formatMetricValue(best)} at step ${step}`;
  const of = `the median ${formatMetricValue(mid)} of ${others.length} trials`;
  return better(mid, best)
    ? { stop: true, why: `${numbers} is worse than ${of}` }
    : { stop: false, why: `${numbers} is no worse than ${of}` };
}

/**
 * ASHA at the trial's current rung, the highest rung ≤ its latest step: among the n trials (any state)
 * whose curves reached that rung, each valued at the largest step ≤ the rung, it continues while fewer
 * than ⌊n/reduction⌋ of them are strictly better (ties keep it); with fewer than `reduction` trials
 * there, too few have been seen to cut, and it continues, as ASHA promotes from a rung that has not
 * filled up.
 *
 * Being stateless, the rule re-judges a trial at its current rung at every report until it passes the
 * next rung, rather than once on arrival: a trial that was lucky to arrive first, when there was no one
 * to compare with, is still stopped once the rung has filled up and it is not in the top fraction, and
 * a missed call or a thinned curve never skips a judgement. Lower rungs are never looked at again (ASHA
 * never demotes what it promoted). The verdict depends only on the recorded curves, never on the order
 * they arrived in or are listed in.
 */
function decideAsha(
  rungs: readonly number[],
  reduction: number,
  better: (a: number, b: number) => boolean,
  metric: string,
  trial: TrialRecord,
  all: readonly TrialRecord[],
): StopDecision {
  const step = lastStep(trial.curve);
  if (step === undefined) {
    return { stop: false, why: `no ${metric} reported yet` };
  }
  const rung = rungs.filter((r) => r <= step).at(-1);
  if (rung === undefined) {
    return { stop: false, why: rungs.length === 0 ? 'ASHA has no rungs' : `step ${step} is before the first rung ${rungs[0]}` };
  }
  const own = valueAtOrBefore(trial.curve, rung);
  if (own === undefined) {
    // The curve starts after the rung (the script's first step was past it): nothing to judge there.
    return { stop: false, why: `no ${metric} at or before rung ${rung}` };
  }
  const values: number[] = [own];
  for (const other of all) {
    const reached = lastStep(other.curve);
    const value = other.trial === trial.trial || reached === undefined || reached < rung ? undefined : valueAtOrBefore(other.curve, rung);
    if (value !== undefined) {
      values.push(value);
    }
  }
  const n = values.length;
  if (n < reduction) {
    return { stop: false, why: `only ${n} of the ${reduction} trials needed to cut have reached rung ${rung}` };
  }
  const keep = Math.floor(n / reduction);
  const ranked = [...values].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const cutoff = ranked[keep - 1];
  const betterCount = values.filter((v) => better(v, own)).length;
  const words = `${metric} ${formatMetricValue(own)} at rung ${rung}`;
  const there = `the top 1/${reduction} of ${n} trials there (cut-off ${formatMetricValue(cutoff)})`;
  return betterCount >= keep ? { stop: true, why: `${words} is not in ${there}` } : { stop: false, why: `${words} is in ${there}` };
}
