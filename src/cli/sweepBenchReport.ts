/**
 * The sweep benchmark's numbers: per strategy, the best validation metric at the budget for each seed
 * and its median, and the share of the budget needed to reach Optuna TPE's final best on the same
 * seed (null when never reached). Pure, so the arithmetic is unit-tested.
 */
import type { Goal } from '../core/sweep/sweepTypes';

export interface RunOutcome {
  strategy: string;
  seed: number;
  best: number | undefined;
  /** [epochs used, best so far]. */
  curve: Array<[number, number]>;
  trials: number;
  wallSec: number;
  /** Hyper-parameters of the trial behind `best`, when known. */
  bestParams?: Record<string, string | number | boolean>;
}

export interface StrategySummary {
  bestAtBudget: Array<number | null>;
  median: number | null;
  /** Spread over seeds: [min, max] of bestAtBudget. */
  spread: [number, number] | null;
  budgetShareToReachOptunaBest: Array<number | null>;
  /** Median of the shares, a seed that never reached it counting as more than the budget (Infinity → null when most did not). */
  medianShare: number | null;
  meanTrials: number;
  meanWallSec: number;
  /** Per seed, the hyper-parameters behind bestAtBudget (null when unknown): input of the noise study. */
  bestParams: Array<Record<string, string | number | boolean> | null>;
}

export interface TaskSummary {
  metric: string;
  goal: Goal;
  budgetEpochs: number;
  strategies: Record<string, StrategySummary>;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Epochs used when the curve first reached `target` (for the goal), as a share of the budget. */
export function shareToReach(curve: ReadonlyArray<[number, number]>, target: number, goal: Goal, budget: number): number | null {
  for (const [epochs, best] of curve) {
    if (goal === 'max' ? best >= target : best <= target) {
      return Math.min(epochs, budget) / budget;
    }
  }
  return null;
}

export function aggregate(metric: string, goal: Goal, budgetEpochs: number, outcomes: readonly RunOutcome[]): TaskSummary {
  const byStrategy = new Map<string, RunOutcome[]>();
  for (const o of outcomes) {
    byStrategy.set(o.strategy, [...(byStrategy.get(o.strategy) ?? []), o]);
  }
  const tpeBest = new Map((byStrategy.get('optuna-tpe') ?? []).map((o) => [o.seed, o.best]));
  const strategies: Record<string, StrategySummary> = {};
  for (const [strategy, runs] of byStrategy) {
    runs.sort((a, b) => a.seed - b.seed);
    const bests = runs.map((r) => (r.best === undefined ? null : r.best));
    const finite = bests.filter((b): b is number => b !== null);
    const shares = runs.map((r) => {
      const target = tpeBest.get(r.seed);
      return target === undefined ? null : shareToReach(r.curve, target, goal, budgetEpochs);
    });
    // A seed that never reached the target ranks above every reached share in the median.
    const ranked = shares.map((s) => (s === null ? Infinity : s));
    const m = median(ranked);
    strategies[strategy] = {
      bestAtBudget: bests,
      median: median(finite),
      spread: finite.length > 0 ? [Math.min(...finite), Math.max(...finite)] : null,
      budgetShareToReachOptunaBest: shares,
      medianShare: m === null || !Number.isFinite(m) ? null : m,
      meanTrials: runs.reduce((s, r) => s + r.trials, 0) / runs.length,
      meanWallSec: runs.reduce((s, r) => s + r.wallSec, 0) / runs.length,
      bestParams: runs.map((r) => r.bestParams ?? null),
    };
  }
  return { metric, goal, budgetEpochs, strategies };
}

export function formatTaskTable(task: string, summary: TaskSummary): string {
  const header = ['strategy', `median ${summary.metric}`, 'spread (min..max)', 'median share to TPE best', 'trials', 'wall s'];
  const rows = Object.entries(summary.strategies).map(([name, s]) => [
    name,
    s.median === null ? '-' : s.median.toFixed(4),
    s.spread ? `${s.spread[0].toFixed(4)}..${s.spread[1].toFixed(4)}` : '-',
    s.medianShare === null ? 'not reached' : s.medianShare.toFixed(2),
    s.meanTrials.toFixed(1),
    s.meanWallSec.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [`\n${task} (${summary.goal} ${summary.metric}, budget ${summary.budgetEpochs} epochs)`, line(header), ...rows.map(line)].join('\n');
}
