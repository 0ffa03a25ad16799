/**
 * How a sweep ranks its trials. Inside the strategies every value is a *loss* (lower is better): for a
 * `max` goal the metric is negated once here, so no strategy has to care about the goal again.
 *
 * A trial's score is the best value it reported (a script that overfits late is judged by its best
 * epoch, as it would be with checkpointing). Trials that did not finish (stopped early, still running,
 * failed part way) only reported a prefix of their curve, and their best-so-far is not comparable
 * with a finished trial's best: it was reached in fewer steps. We follow Optuna's rule for TPE: finished
 * trials rank first, by score; unfinished ones after them, the one that got further first, ties at
 * equal depth by their best value up to that depth. This is sound because an early-stopping rule stops
 * a trial exactly when it compares badly *at that step* with its peers, and a running trial has not yet
 * earned a place among the finished ones: counting it as good would let a curve cut off before its
 * noise settled (or before it overfitted) steer the search.
 */
import type { Goal, MetricPoint, TrialRecord } from './sweepTypes';

/** The metric as a loss: lower is better whatever the goal. */
export function lossOf(value: number, goal: Goal): number {
  return goal === 'min' ? value : -value;
}

/** The metric again from a loss, for explanations. */
export function valueOfLoss(loss: number, goal: Goal): number {
  return goal === 'min' ? loss : -loss;
}

/** Best loss among the points up to (and including) `step`; undefined when none was reported by then. */
export function bestLossUpTo(curve: readonly MetricPoint[], goal: Goal, step = Infinity): number | undefined {
  let best: number | undefined;
  for (const point of curve) {
    if (point.step > step || !Number.isFinite(point.value)) continue;
    const loss = lossOf(point.value, goal);
    if (best === undefined || loss < best) best = loss;
  }
  return best;
}

/** A trial's score as a loss: its best report; undefined for a trial that reported nothing usable. */
export function trialLoss(trial: TrialRecord, goal: Goal): number | undefined {
  return bestLossUpTo(trial.curve, goal);
}

/** A trial's score in the metric's own terms (its best reported value), for display. */
export function trialScore(trial: TrialRecord, goal: Goal): number | undefined {
  const loss = trialLoss(trial, goal);
  return loss === undefined ? undefined : valueOfLoss(loss, goal);
}

/** Only a trial that ran to its end reported its whole curve. */
export function isFinished(trial: TrialRecord): boolean {
  return trial.state === 'succeeded';
}

export interface RankedTrial {
  trial: TrialRecord;
  /** Best loss the trial reported. */
  loss: number;
  finished: boolean;
  /** Deepest step it reported. */
  lastStep: number;
}

/**
 * Trials that reported something, best first, unfinished ones after finished ones (see the file
 * comment). Ties keep proposal order, so the ranking is deterministic.
 */
export function rankTrials(history: readonly TrialRecord[], goal: Goal): RankedTrial[] {
  const ranked: RankedTrial[] = [];
  for (const trial of history) {
    const loss = trialLoss(trial, goal);
    if (loss === undefined) continue;
    const lastStep = trial.curve.reduce((m, p) => Math.max(m, p.step), -Infinity);
    ranked.push({ trial, loss, finished: isFinished(trial), lastStep });
  }
  return ranked.sort((a, b) => {
    if (a.finished !== b.finished) return a.finished ? -1 : 1;
    if (!a.finished && a.lastStep !== b.lastStep) return b.lastStep - a.lastStep;
    return a.loss - b.loss || a.trial.trial - b.trial.trial;
  });
}

/**
 * Compares two trials at the same depth: their best losses up to the shallower of their last steps.
 * Negative when `a` was better by then. Used where a strategy must judge an unfinished trial against
 * a finished one without rewarding either for having run longer.
 */
export function compareAtEqualStep(a: TrialRecord, b: TrialRecord, goal: Goal): number | undefined {
  const depth = (t: TrialRecord): number => t.curve.reduce((m, p) => Math.max(m, p.step), -Infinity);
  const step = Math.min(depth(a), depth(b));
  const la = bestLossUpTo(a.curve, goal, step);
  const lb = bestLossUpTo(b.curve, goal, step);
  return la === undefined || lb === undefined ? undefined : la - lb;
}

/**
 * The incumbent: the best trial by the ranking above, or undefined before any report. An unfinished
 * trial can be the incumbent only while no trial has finished, which keeps a parallel sweep moving.
 */
export function incumbent(history: readonly TrialRecord[], goal: Goal): RankedTrial | undefined {
  return rankTrials(history, goal)[0];
}
