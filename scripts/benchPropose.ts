/**
 * How long one proposal takes for each search strategy as a sweep's history grows (every proposal
 * replays or re-models the whole history, by design: strategies keep no state). The target is 50 ms
 * per proposal after 200 trials. Prints a table; timing stays out of the unit tests.
 *   node --import tsx scripts/benchPropose.ts
 */
import { performance } from 'node:perf_hooks';
import type { ParamSpec, Params, StrategyName, TrialRecord } from '../src/core/sweep/sweepTypes';
import { STRATEGY_NAMES } from '../src/core/sweep/sweepTypes';
import { createStrategy } from '../src/core/sweep/searchStrategies';

const SPEC: ParamSpec[] = [
  { name: 'lr', kind: 'float', min: 1e-5, max: 1, log: true },
  { name: 'momentum', kind: 'float', min: 0, max: 0.99 },
  { name: 'wd', kind: 'float', min: 1e-6, max: 1e-2, log: true },
  { name: 'batch', kind: 'int', min: 16, max: 512, log: true },
  { name: 'opt', kind: 'choice', values: ['sgd', 'adam', 'rmsprop'] },
];
const SIZES = [10, 50, 200];
const REPEATS = 7;

/** A quadratic bowl in log-lr and momentum, with a curve of 20 steps per trial as a real sweep has. */
function loss(p: Params): number {
  return (Math.log10(Number(p.lr)) + 2.5) ** 2 + 10 * (Number(p.momentum) - 0.9) ** 2 + (p.opt === 'adam' ? 0 : 0.3);
}

/** The history the strategy itself would have built, so replaying strategies see their own moves. */
function historyFor(name: StrategyName, size: number): TrialRecord[] {
  const strategy = createStrategy(name, SPEC, 'min', 'loss', 1, { budgetTrials: 400 });
  const history: TrialRecord[] = [];
  while (history.length < size) {
    const p = strategy.propose(history);
    if (!p) break;
    const final = loss(p.params);
    const curve = Array.from({ length: 20 }, (_, i) => ({ step: i + 1, value: final + 1 / (i + 1) }));
    history.push({ trial: history.length + 1, params: p.params, state: 'succeeded', curve });
  }
  return history;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(`ms per proposal, median of ${REPEATS} (5 parameters, 20 reports per trial)`);
console.log('strategy'.padEnd(12) + SIZES.map((s) => `${s} trials`.padStart(12)).join(''));
for (const name of STRATEGY_NAMES) {
  let row = name.padEnd(12);
  for (const size of SIZES) {
    const history = historyFor(name, size);
    const strategy = createStrategy(name, SPEC, 'min', 'loss', 1, { budgetTrials: 400 });
    const times = Array.from({ length: REPEATS }, () => {
      const t0 = performance.now();
      strategy.propose(history);
      return performance.now() - t0;
    });
    const note = history.length < size ? ` (${history.length})` : '';
    row += `${median(times).toFixed(2)}${note}`.padStart(12);
  }
  console.log(row);
}
