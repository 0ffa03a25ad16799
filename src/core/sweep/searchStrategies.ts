/**
 * The one place that turns a sweep's `strategy` name into a strategy, so the sweep manager, the
 * benchmark and the tests all build strategies the same way.
 */
import type { Goal, ParamSpec, SearchStrategy, StrategyName } from './sweepTypes';
import { createGridSearch, createRandomSearch } from './simpleSearch';
import { createQLearningSearch } from './qlearningSearch';
import { createAdaptiveSearch } from './adaptiveSearch';

export interface StrategyOptions {
  /** The sweep's trial budget when it has one: adaptive keeps its last part for refining the best trial. */
  budgetTrials?: number;
}

export function createStrategy(
  name: StrategyName,
  params: ParamSpec[],
  goal: Goal,
  _metric: string,
  seed: number,
  opts: StrategyOptions = {},
): SearchStrategy {
  switch (name) {
    case 'grid':
      return createGridSearch(params);
    case 'random':
      return createRandomSearch(params, seed);
    case 'qlearning':
      return createQLearningSearch(params, goal, seed);
    case 'adaptive':
      return createAdaptiveSearch(params, goal, seed, { budgetTrials: opts.budgetTrials });
  }
}
