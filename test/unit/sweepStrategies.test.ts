import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Goal, ParamSpec, Params, SearchStrategy, StrategyName, TrialRecord } from '../../src/core/sweep/sweepTypes';
import { STRATEGY_NAMES } from '../../src/core/sweep/sweepTypes';
import { createStrategy } from '../../src/core/sweep/searchStrategies';
import { encode, paramsKey } from '../../src/core/sweep/paramSpace';
import { rngFor } from '../../src/core/sweep/seededRandom';
import { compareAtEqualStep, rankTrials, trialScore } from '../../src/core/sweep/trialScore';
import { tpeSuggest } from '../../src/core/sweep/tpeSearch';

interface Objective { spec: ParamSpec[]; f: (p: Params) => number; optimum: number; noise?: number }
const n = Number;
const LR: ParamSpec = { name: 'lr', kind: 'float', min: 1e-5, max: 1, log: true };
const MOMENTUM: ParamSpec = { name: 'momentum', kind: 'float', min: 0, max: 0.99 };
const quad = (p: Params) => (Math.log10(n(p.lr)) + 2.5) ** 2 + 10 * (n(p.momentum) - 0.9) ** 2;
const OBJECTIVES: Record<string, Objective> = {
  quad2: { spec: [LR, MOMENTUM], f: quad, optimum: 0 },
  quad4: {
    spec: [LR, MOMENTUM, { name: 'wd', kind: 'float', min: 1e-6, max: 1e-2, log: true }, { name: 'dropout', kind: 'float', min: 0, max: 0.5 }],
    f: (p) => quad(p) + 0.5 * (Math.log10(n(p.wd)) + 4) ** 2 + 8 * (n(p.dropout) - 0.1) ** 2,
    optimum: 0,
  },
  branin: {
    spec: [{ name: 'x1', kind: 'float', min: -5, max: 10 }, { name: 'x2', kind: 'float', min: 0, max: 15 }],
    f: (p) => {
      const [x1, x2] = [n(p.x1), n(p.x2)];
      return (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
    },
    optimum: 0.397887,
  },
  mixed: {
    spec: [{ name: 'opt', kind: 'choice', values: ['sgd', 'adam', 'rmsprop'] }, LR, { name: 'batch', kind: 'int', min: 16, max: 512, log: true }],
    f: (p) => {
      const [best, offset] = p.opt === 'adam' ? [-3.5, 0] : p.opt === 'sgd' ? [-1.5, 0.3] : [-3, 0.6];
      return offset + (Math.log10(n(p.lr)) - best) ** 2 + (0.8 * (Math.log2(n(p.batch)) - 6) ** 2) / 4;
    },
    optimum: 0,
  },
  noisy: { spec: [LR, MOMENTUM], f: quad, optimum: 0, noise: 0.3 },
};

const done = (trial: number, params: Params, value: number, state: TrialRecord['state'] = 'succeeded'): TrialRecord => ({ trial, params, state, curve: [{ step: 1, value }] });

/** A sequential sweep; the true regret of the best observed trial after `budget` trials. */
function regret(obj: Objective, strategy: SearchStrategy, budget: number, seed: number): number {
  const history: TrialRecord[] = [];
  let best = { observed: Infinity, truth: Infinity };
  for (let t = 0; t < budget; t++) {
    const p = strategy.propose(history);
    if (!p) break;
    const truth = obj.f(p.params);
    const observed = truth + (obj.noise ?? 0) * rngFor(seed, t, 'noise').normal();
    history.push(done(t + 1, p.params, observed));
    if (observed < best.observed) best = { observed, truth };
  }
  return best.truth - obj.optimum;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const medianRegret = (name: StrategyName, obj: Objective, budget: number) =>
  median(SEEDS.map((seed) => regret(obj, createStrategy(name, obj.spec, 'min', 'loss', seed, { budgetTrials: budget }), budget, seed)));

function inBounds(spec: readonly ParamSpec[], params: Params): boolean {
  return spec.every((p) => {
    const v = params[p.name];
    if (p.kind === 'choice') return p.values.includes(v);
    const x = n(v);
    return Number.isFinite(x) && x >= Math.min(p.min, p.max) && x <= Math.max(p.min, p.max) && (p.kind === 'float' || Number.isInteger(x));
  });
}

test('every strategy is deterministic for a seed: same history, same proposal, also after a reload', () => {
  for (const name of STRATEGY_NAMES) {
    const run = (seed: number) => {
      const s = createStrategy(name, OBJECTIVES.mixed.spec, 'min', 'loss', seed, { budgetTrials: 25 });
      const history: TrialRecord[] = [];
      for (let t = 0; t < 25; t++) {
        const p = s.propose(history);
        if (!p) break;
        // A reloaded sweep is a fresh strategy over the same history.
        const again = createStrategy(name, OBJECTIVES.mixed.spec, 'min', 'loss', seed, { budgetTrials: 25 }).propose(history);
        assert.deepEqual(again, p, `${name} trial ${t + 1}`);
        history.push(done(t + 1, p.params, OBJECTIVES.mixed.f(p.params)));
      }
      return history.map((h) => paramsKey(h.params));
    };
    assert.deepEqual(run(11), run(11), name);
    if (name !== 'grid') assert.notDeepEqual(run(11), run(12), name);
  }
});

test('grid covers the grid exactly once, then has nothing new', () => {
  const spec: ParamSpec[] = [{ name: 'opt', kind: 'choice', values: ['sgd', 'adam'] }, { name: 'lr', kind: 'float', min: 1e-4, max: 1e-2, log: true }];
  const grid = createStrategy('grid', spec, 'min', 'loss', 1);
  const history: TrialRecord[] = [];
  for (let p = grid.propose(history); p; p = grid.propose(history)) history.push(done(history.length + 1, p.params, 1));
  assert.equal(history.length, 10);
  assert.equal(new Set(history.map((h) => paramsKey(h.params))).size, 10);
  // Two parameters: consecutive points differ in both (gridOrder), the first is the grid's first.
  assert.deepEqual(history[0].params, { opt: 'sgd', lr: 0.0001 });
  assert.notEqual(history[1].params.opt, history[0].params.opt);
  assert.notEqual(history[1].params.lr, history[0].params.lr);
});

test('random search never repeats a point of a space of choices, and stops when it is used up', () => {
  const spec: ParamSpec[] = [{ name: 'a', kind: 'choice', values: [1, 2, 3] }, { name: 'b', kind: 'choice', values: ['x', 'y'] }, { name: 'c', kind: 'int', min: 0, max: 1 }];
  const random = createStrategy('random', spec, 'min', 'loss', 5);
  const history: TrialRecord[] = [];
  for (let p = random.propose(history); p; p = random.propose(history)) history.push(done(history.length + 1, p.params, 1));
  assert.equal(history.length, 12);
  assert.equal(new Set(history.map((h) => paramsKey(h.params))).size, 12);
});

test('Q-learning beats random search (median over 9 seeds, 30 trials)', () => {
  for (const name of ['quad2', 'quad4', 'branin', 'mixed']) {
    const q = medianRegret('qlearning', OBJECTIVES[name], 30);
    const r = medianRegret('random', OBJECTIVES[name], 30);
    assert.ok(q < r, `${name}: qlearning ${q} vs random ${r}`);
  }
});

test('adaptive beats random search and gets near the optimum (median over 9 seeds, 40 trials)', () => {
  const near: Record<string, number> = { quad2: 0.01, quad4: 0.1, branin: 0.1, mixed: 0.05, noisy: 0.3 };
  for (const [name, tolerance] of Object.entries(near)) {
    const a = medianRegret('adaptive', OBJECTIVES[name], 40);
    const r = medianRegret('random', OBJECTIVES[name], 40);
    assert.ok(a < r, `${name}: adaptive ${a} vs random ${r}`);
    assert.ok(a < tolerance, `${name}: adaptive regret ${a} ≥ ${tolerance}`);
  }
});

const HOSTILE: ParamSpec[] = [
  { name: 'only', kind: 'choice', values: ['one'] },
  { name: 'fixed', kind: 'float', min: 0.5, max: 0.5 },
  { name: 'wide', kind: 'float', min: 1e-8, max: 1e8, log: true },
  { name: 'huge', kind: 'int', min: 0, max: 1e12 },
  { name: 'hugelog', kind: 'int', min: 1, max: 1e12, log: true },
  { name: 'flag', kind: 'choice', values: [true, false] },
];

test('proposals stay within bounds, for every strategy and many seeds, hostile spaces included', () => {
  for (const name of STRATEGY_NAMES) {
    for (let seed = 0; seed < 12; seed++) {
      const s = createStrategy(name, HOSTILE, seed % 2 ? 'max' : 'min', 'm', seed, { budgetTrials: 30 });
      const history: TrialRecord[] = [];
      for (let t = 0; t < 30; t++) {
        const p = s.propose(history);
        if (!p) break;
        assert.ok(inBounds(HOSTILE, p.params), `${name} seed ${seed}: ${JSON.stringify(p.params)}`);
        assert.ok(p.why.length > 20);
        const score = Math.log10(n(p.params.wide)) ** 2 + (n(p.params.huge) / 1e12 - 0.3) ** 2;
        history.push(done(t + 1, p.params, score));
      }
    }
  }
});

test('200 trials of history, running trials among them: every strategy still proposes something new', () => {
  const spec = OBJECTIVES.quad4.spec;
  const r = rngFor(9);
  const history: TrialRecord[] = Array.from({ length: 200 }, (_, i) => {
    const params = Object.fromEntries(spec.map((p) => [p.name, p.kind === 'float' ? p.min + r.next() * (p.max - p.min) : 0]));
    return i % 10 === 0 ? { trial: i + 1, params, state: 'running', curve: [] } : done(i + 1, params, OBJECTIVES.quad4.f(params), i % 7 ? 'succeeded' : 'stopped');
  });
  const seen = new Set(history.map((h) => paramsKey(h.params)));
  for (const name of STRATEGY_NAMES) {
    const p = createStrategy(name, spec, 'min', 'loss', 3).propose(history);
    if (name === 'grid') continue;
    assert.ok(p && inBounds(spec, p.params) && !seen.has(paramsKey(p.params)), name);
  }
});

test('TPE treats running trials as bad, so parallel proposals spread out', () => {
  const spec = OBJECTIVES.quad2.spec;
  const history: TrialRecord[] = [];
  const r = rngFor(4);
  for (let i = 0; i < 12; i++) {
    const params = { lr: 10 ** (-5 + 5 * r.next()), momentum: 0.99 * r.next() };
    history.push(done(i + 1, params, quad(params)));
  }
  const points: number[][] = [];
  for (let k = 0; k < 4; k++) {
    const s = tpeSuggest(spec, history, 'min', 1, { gamma: (m) => Math.ceil(0.25 * m) });
    assert.ok(s);
    if (k > 0) assert.ok(s.pending === k && s.ratio > 0);
    points.push(encode(spec, s.params));
    history.push({ trial: history.length + 1, params: s.params, state: 'running', curve: [] });
  }
  for (let i = 0; i < points.length; i++)
    for (let j = 0; j < i; j++) assert.ok(Math.hypot(points[i][0] - points[j][0], points[i][1] - points[j][1]) > 0.005);
});

test('explanations carry the numbers behind them', () => {
  const obj = OBJECTIVES.quad2;
  const s = createStrategy('adaptive', obj.spec, 'min', 'loss', 2, { budgetTrials: 30 });
  const history: TrialRecord[] = [];
  const whys: string[] = [];
  for (let t = 0; t < 30; t++) {
    const p = s.propose(history)!;
    whys.push(p.why);
    history.push(done(t + 1, p.params, obj.f(p.params)));
  }
  assert.match(whys[0], /^Random start 1 of 5/);
  assert.ok(whys.some((w) => /^TPE: lr=[\d.e-]+, momentum=[\d.]+ is [\d.e+]+× likelier among the best \d+ of \d+ trials/.test(w) || /jump .*TPE: /.test(w)), whys.join('\n'));
  assert.ok(whys.some((w) => /^Q-learning: moved (lr|momentum) (up|down) by one step of [\d.]+ of its (log )?range from the best trial \d+ \(.* → .*; (greedy|exploring), Q=-?[\d.]+, ε=[\d.]+\)/.test(w)), whys.join('\n'));
});

test('scores: the best report by goal; finished trials rank before unfinished ones, which compare at equal depth', () => {
  const goal: Goal = 'max';
  const curve = (values: number[]) => values.map((value, i) => ({ step: i + 1, value }));
  const finished: TrialRecord = { trial: 1, params: {}, state: 'succeeded', curve: curve([0.5, 0.8, 0.7]) };
  const stoppedHigh: TrialRecord = { trial: 2, params: {}, state: 'stopped', curve: curve([0.9]) };
  const running: TrialRecord = { trial: 3, params: {}, state: 'running', curve: curve([0.4, 0.6]) };
  const silent: TrialRecord = { trial: 4, params: {}, state: 'running', curve: [] };
  assert.equal(trialScore(finished, goal), 0.8);
  assert.equal(trialScore(finished, 'min'), 0.5);
  assert.equal(trialScore(silent, goal), undefined);
  assert.deepEqual(rankTrials([stoppedHigh, running, silent, finished], goal).map((r) => r.trial.trial), [1, 3, 2]);
  assert.ok(compareAtEqualStep(stoppedHigh, finished, goal)! < 0, 'at step 1, 0.9 beats 0.5');
  assert.ok(compareAtEqualStep(running, finished, goal)! > 0, 'at step 2, 0.6 loses to 0.8');
});

test('a grid of several parameters is walked so that an early end has tried every value of each; one parameter keeps its written order', () => {
  const spec: ParamSpec[] = [
    { kind: 'float', name: 'lr', min: 1e-5, max: 1, log: true },
    { kind: 'int', name: 'layers', min: 1, max: 5 },
    { kind: 'choice', name: 'opt', values: ['sgd', 'adam', 'rmsprop'] },
  ];
  const grid = createStrategy('grid', spec, 'min', 'loss', 1);
  const history: TrialRecord[] = [];
  for (let k = 0; k < 15; k++) history.push(done(k + 1, grid.propose(history)!.params, 1));
  for (const name of ['lr', 'layers', 'opt']) {
    const distinct = new Set(history.map((t) => t.params[name])).size;
    assert.equal(distinct, name === 'opt' ? 3 : 5, `${name}: all its values within 15 of 75 points`);
  }
  for (let p = grid.propose(history); p; p = grid.propose(history)) history.push(done(history.length + 1, p.params, 1));
  assert.equal(new Set(history.map((t) => JSON.stringify(t.params))).size, 75, 'the full walk still covers the grid once');
  const single = createStrategy('grid', [{ kind: 'choice', name: 'lr', values: [0.3, 0.1, 0.03] }], 'min', 'loss', 1);
  const one: TrialRecord[] = [];
  for (let p = single.propose(one); p; p = single.propose(one)) one.push(done(one.length + 1, p.params, 1));
  assert.deepEqual(one.map((t) => t.params.lr), [0.3, 0.1, 0.03]);
});
