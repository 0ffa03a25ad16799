import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Importance, JobFeatures, Priority } from '../../src/core/job';
import type { PriorityExample } from '../../src/core/workspaceState';
import type { LabelledFeatures } from '../../src/core/defaultTrainingSet';
import { DEFAULT_TRAINING_SET, defaultPolicy } from '../../src/core/defaultTrainingSet';
import { FeatureError, MAX_GPUS, MAX_RUNTIME_SEC, MIN_RUNTIME_SEC, encodeFeatures, validateFeatures } from '../../src/core/features';
import { MAX_USER_EXAMPLES, PriorityClassifier, areNeighbours, buildTrainingSet } from '../../src/core/priorityClassifier';
import { parseDuration } from '../../src/core/duration';
import { createRng } from '../../src/sim/rng';

const M = 60;
const H = 3_600;
const D = 86_400;
const IMPORTANCES: Importance[] = ['low', 'normal', 'high'];

function job(gpus: number, importance: Importance, runtimeSec: number, expectedGain?: number): JobFeatures {
  return { gpus, importance, expectedGain, runtimeSec };
}

function override(features: JobFeatures, label: Priority, at = 1_000): PriorityExample {
  return { features, label, at };
}


function randomJobs(seed: number, count: number): JobFeatures[] {
  const next = createRng(seed, 'test').next;
  return Array.from({ length: count }, () => ({
    gpus: Math.floor(next() * 17),
    importance: IMPORTANCES[Math.floor(next() * 3)],
    expectedGain: next() < 0.4 ? undefined : Math.round(next() * 1000) / 10,
    // Log-uniform between 1 minute and 30 days, as runtimes are spread.
    runtimeSec: Math.round(MIN_RUNTIME_SEC * (MAX_RUNTIME_SEC / MIN_RUNTIME_SEC) ** next()),
  }));
}

test('learns a labelled set it is given: its own points and held-out points', () => {
  // Separable by a rule the tree has to find among irrelevant features: ≥ 8 GPUs → Low, else < 2h → High, else Medium.
  const rule = (f: JobFeatures): Priority => (f.gpus >= 8 ? 'low' : f.runtimeSec < 2 * H ? 'high' : 'medium');
  const training: LabelledFeatures[] = [];
  const next = createRng(7, 'test').next;
  for (const gpus of [0, 1, 2, 4, 6, 8, 12, 16, 32]) {
    for (const runtimeSec of [10 * M, 30 * M, 1 * H, 1.5 * H, 2.5 * H, 4 * H, 8 * H, 1 * D]) {
      const features = job(gpus, IMPORTANCES[Math.floor(next() * 3)], runtimeSec, Math.round(next() * 100));
      training.push({ features, label: rule(features) });
    }
  }
  const classifier = new PriorityClassifier([], { baseExamples: training });
  for (const example of training) {
    assert.equal(classifier.classify(example.features).priority, example.label, JSON.stringify(example.features));
  }
  // Held out: anything except the gaps the training set leaves at the two boundaries (7 GPUs, 1.5h–2.5h).
  const heldOut = randomJobs(11, 500).filter((f) => f.gpus !== 7 && (f.runtimeSec < 1.5 * H || f.runtimeSec > 2.5 * H));
  assert.ok(heldOut.length > 300);
  for (const features of heldOut) {
    assert.equal(classifier.classify(features).priority, rule(features), JSON.stringify(features));
  }
});

test('the default set is a small, documented grid labelled by the default policy', () => {
  assert.equal(DEFAULT_TRAINING_SET.length, 36);
  for (const example of DEFAULT_TRAINING_SET) {
    assert.equal(example.label, defaultPolicy(example.features));
    validateFeatures(example.features);
  }
});

test('default predictions follow the documented policy', () => {
  const classifier = new PriorityClassifier();
  const cases: Array<[JobFeatures, Priority, string]> = [
    [job(16, 'high', 5 * D), 'high', 'rule 1: high importance, however big'],
    [job(0, 'high', 5 * M), 'high', 'rule 1: high importance, however small'],
    [job(1, 'normal', 3 * H, 25), 'high', 'rule 2: big gain, back within 12h'],
    [job(8, 'normal', 11 * H, 20), 'high', 'rule 2: a gain of exactly 20% counts as big'],
    [job(2, 'normal', 2 * D, 50), 'medium', 'rule 2: big gain but long'],
    [job(4, 'normal', 13 * H), 'low', 'rule 3: 4 GPUs for over 12h'],
    [job(3, 'normal', 3 * D, 10), 'medium', 'rule 3: long, but only 3 GPUs'],
    [job(8, 'normal', 6 * H), 'medium', 'rule 3: many GPUs, not long'],
    [job(1, 'normal', 2 * H, 19.9), 'medium', 'rule 3: gain just under 20%'],
    [job(8, 'low', 50 * M), 'medium', 'rule 4: short jobs are never Low'],
    [job(1, 'low', 70 * M, 90), 'low', 'rule 4: low importance past 1h, whatever the gain'],
  ];
  for (const [features, expected, why] of cases) {
    assert.equal(classifier.classify(features).priority, expected, why);
    assert.equal(defaultPolicy(features), expected, why);
  }
  // Not just on the examples: the learned tree and the written policy agree on arbitrary jobs.
  for (const features of randomJobs(3, 2_000)) {
    assert.equal(classifier.classify(features).priority, defaultPolicy(features), JSON.stringify(features));
  }
});

test('the default tooltip reads as the policy', () => {
  const classifier = new PriorityClassifier();
  assert.equal(
    classifier.classify(job(8, 'normal', D)).path,
    'importance normal · gain < 20% (none given, counted as 5%) · runtime ≥ 12h · gpus ≥ 4 → Low',
  );
  assert.equal(classifier.classify(job(2, 'normal', 3 * H, 30)).path, 'importance normal · gain ≥ 20% · runtime < 12h → High');
  assert.equal(classifier.classify(job(2, 'low', 20 * M)).path, 'importance low · runtime < 1h → Medium');
  assert.equal(classifier.classify(job(2, 'high', 20 * M)).path, 'importance high → High');
});

// Reads one "a · b · c → Label" condition back and evaluates it for a job, with the rounding the text allows.
function holds(condition: string, f: JobFeatures): boolean {
  const gain = f.expectedGain ?? 5;
  const runtimeTolerance = 1.01;
  const gainTolerance = 0.05;
  let m: RegExpExecArray | null;
  if ((m = /^importance (.+)$/.exec(condition))) {
    return m[1].split(' or ').includes(f.importance);
  }
  if ((m = /^gpus (≥|≤|=) (\d+)$/.exec(condition))) {
    const bound = Number(m[2]);
    return m[1] === '≥' ? f.gpus >= bound : m[1] === '≤' ? f.gpus <= bound : f.gpus === bound;
  }
  if ((m = /^(\d+) ≤ gpus ≤ (\d+)$/.exec(condition))) {
    return f.gpus >= Number(m[1]) && f.gpus <= Number(m[2]);
  }
  const text = condition.replace(/ \(none given, counted as 5%\)$/, '');
  const value = (s: string): number => (s.endsWith('%') ? Number(s.slice(0, -1)) : parseDuration(s));
  const actual = text.includes('gain') ? gain : f.runtimeSec;
  const atLeast = (bound: number): boolean => (text.includes('gain') ? actual >= bound - gainTolerance : actual * runtimeTolerance >= bound);
  const below = (bound: number): boolean => (text.includes('gain') ? actual < bound + gainTolerance : actual < bound * runtimeTolerance);
  if ((m = /^(gain|runtime) (≥|<) (.+)$/.exec(text))) {
    return m[2] === '≥' ? atLeast(value(m[3])) : below(value(m[3]));
  }
  if ((m = /^(.+) ≤ (gain|runtime) < (.+)$/.exec(text))) {
    return atLeast(value(m[1])) && below(value(m[3]));
  }
  throw new Error(`unexpected condition "${condition}"`);
}

test('the decision path is the route the job took, and its text holds for the job', () => {
  const users = randomJobs(5, 60).map((features, i) => override(features, (['high', 'medium', 'low'] as const)[i % 3], i));
  for (const classifier of [new PriorityClassifier(), new PriorityClassifier(users)]) {
    for (const features of randomJobs(9, 400)) {
      const result = classifier.classify(features);
      const x = encodeFeatures(features);
      for (const step of result.steps) {
        assert.ok(step.op === '<' ? x[step.column] < step.threshold : x[step.column] >= step.threshold, JSON.stringify(step));
      }
      const [conditions, outcome] = result.path.split(' → ');
      assert.match(outcome, new RegExp(`^${result.priority === 'high' ? 'High' : result.priority === 'medium' ? 'Medium' : 'Low'}( \\(learned from your overrides\\))?$`));
      for (const condition of conditions === 'every job' ? [] : conditions.split(' · ')) {
        assert.ok(holds(condition, features), `"${condition}" does not hold for ${JSON.stringify(features)} (path ${result.path})`);
      }
    }
  }
});

test('comparisons are rendered on the side ml-cart actually sends the value', () => {
  // ml-cart sends value < threshold left; the cut between 2 and 6 GPUs is 4, between 1h and 4h (log scale) 2h.
  const gpusSet = [job(2, 'normal', H), job(2, 'low', 5 * H), job(6, 'normal', H), job(6, 'low', 5 * H)].map((features) => ({
    features,
    label: (features.gpus < 4 ? 'high' : 'low') as Priority,
  }));
  const byGpus = new PriorityClassifier([], { baseExamples: gpusSet });
  assert.deepEqual(byGpus.classify(job(4, 'normal', H)), {
    priority: 'low',
    path: 'gpus ≥ 4 → Low',
    steps: [{ column: 0, feature: 'gpus', op: '≥', threshold: 4 }],
    learnedFromUser: false,
  });
  assert.equal(byGpus.classify(job(3, 'normal', H)).path, 'gpus ≤ 3 → High');

  const runtimeSet = [job(1, 'normal', H), job(8, 'normal', H), job(1, 'normal', 4 * H), job(8, 'normal', 4 * H)].map((features) => ({
    features,
    label: (features.runtimeSec < 2 * H ? 'high' : 'medium') as Priority,
  }));
  const byRuntime = new PriorityClassifier([], { baseExamples: runtimeSet });
  assert.equal(byRuntime.classify(job(1, 'normal', 2 * H)).path, 'runtime ≥ 2h → Medium');
  assert.equal(byRuntime.classify(job(1, 'normal', 2 * H - 60)).path, 'runtime < 2h → High');

  const gainSet = [job(1, 'normal', H, 10), job(1, 'normal', H, 30), job(1, 'low', H, 10), job(1, 'low', H, 30)].map((features) => ({
    features,
    label: ((features.expectedGain ?? 0) < 20 ? 'medium' : 'high') as Priority,
  }));
  const byGain = new PriorityClassifier([], { baseExamples: gainSet });
  assert.equal(byGain.classify(job(1, 'low', H, 20)).path, 'gain ≥ 20% → High');
  assert.equal(byGain.classify(job(1, 'low', H)).path, 'gain < 20% (none given, counted as 5%) → Medium');
  // The same leaf with a gain given, after the text without one was written (texts are kept per leaf).
  assert.equal(byGain.classify(job(1, 'low', H, 10)).path, 'gain < 20% → Medium');
  assert.equal(byGain.classify(job(2, 'normal', 3 * H)).path, 'gain < 20% (none given, counted as 5%) → Medium');

  const importanceSet = IMPORTANCES.map((importance) => ({ features: job(1, importance, H), label: (importance === 'low' ? 'low' : 'medium') as Priority }));
  const byImportance = new PriorityClassifier([], { baseExamples: importanceSet });
  assert.equal(byImportance.classify(job(1, 'high', H)).path, 'importance normal or high → Medium');
  assert.equal(byImportance.classify(job(1, 'low', H)).path, 'importance low → Low');
});

test('one override changes the prediction for that job and similar jobs, not for different ones', () => {
  const cases: Array<{ job: JobFeatures; label: Priority; unchanged: JobFeatures[] }> = [
    { job: job(2, 'normal', 3 * H), label: 'high', unchanged: [job(8, 'normal', 2 * D), job(1, 'low', 4 * H), job(6, 'low', 10 * M), job(2, 'normal', D, 35)] },
    { job: job(8, 'normal', D, 10), label: 'high', unchanged: [job(1, 'normal', 3 * H), job(8, 'low', D), job(8, 'normal', 4 * H, 40)] },
    { job: job(1, 'low', 4 * H), label: 'high', unchanged: [job(1, 'normal', 3 * H), job(16, 'low', 3 * D), job(2, 'low', 20 * M)] },
    { job: job(4, 'high', 10 * M), label: 'low', unchanged: [job(4, 'high', 2 * D), job(4, 'normal', 10 * M), job(4, 'low', 10 * M)] },
  ];
  for (const { job: overridden, label, unchanged } of cases) {
    const before = new PriorityClassifier();
    assert.notEqual(before.classify(overridden).priority, label, 'the override goes against the default');
    const after = new PriorityClassifier([override(overridden, label)]);
    const similar = [0.8, 0.9, 1, 1.1, 1.2].map((k) => ({ ...overridden, runtimeSec: Math.round(overridden.runtimeSec * k) }));
    for (const features of similar) {
      assert.equal(after.classify(features).priority, label, `similar ${JSON.stringify(features)} after overriding ${JSON.stringify(overridden)}`);
    }
    assert.match(after.classify(overridden).path, new RegExp(`→ ${label[0].toUpperCase()}${label.slice(1)}`));
    for (const features of unchanged) {
      assert.equal(after.classify(features).priority, before.classify(features).priority, `different ${JSON.stringify(features)}`);
    }
  }
});

test('retrain follows the latest overrides: a newer contrary choice wins, none restores the defaults', () => {
  const overridden = job(2, 'normal', 3 * H);
  const classifier = new PriorityClassifier([override(overridden, 'high', 1)]);
  assert.equal(classifier.classify(overridden).priority, 'high');
  classifier.retrain([override(overridden, 'high', 1), override({ ...overridden, runtimeSec: 4 * H }, 'low', 2)]);
  assert.equal(classifier.classify(overridden).priority, 'low');
  classifier.retrain([]);
  assert.equal(classifier.classify(overridden).priority, defaultPolicy(overridden));
});

test('the tooltip says when a decision was learned from the user', () => {
  const overridden = job(1, 'low', 4 * H);
  assert.equal(new PriorityClassifier().classify(overridden).path, 'importance low · runtime ≥ 1h → Low');
  const result = new PriorityClassifier([override(overridden, 'high')]).classify(overridden);
  assert.equal(result.learnedFromUser, true);
  assert.match(result.path, /→ High \(learned from your overrides\)$/);
});

test('overrides replace only the default examples in their neighbourhood', () => {
  assert.ok(areNeighbours(job(2, 'normal', 3 * H), job(3, 'normal', 5 * H, 12)));
  assert.ok(!areNeighbours(job(2, 'normal', 3 * H), job(2, 'low', 3 * H)), 'another importance');
  assert.ok(!areNeighbours(job(2, 'normal', 3 * H), job(5, 'normal', 3 * H)), 'more than twice the GPUs');
  assert.ok(!areNeighbours(job(0, 'normal', 3 * H), job(1, 'normal', 3 * H)), 'a CPU job and a GPU job');
  assert.ok(!areNeighbours(job(2, 'normal', 3 * H), job(2, 'normal', 7 * H)), 'more than twice as long');
  assert.ok(!areNeighbours(job(2, 'normal', 3 * H, 30), job(2, 'normal', 3 * H)), 'gains 25 points apart');

  const set = buildTrainingSet(DEFAULT_TRAINING_SET, [override(job(2, 'normal', 3 * H), 'high')]);
  // The default (2 GPUs, normal, no gain, 2h) → Medium is the one example the override contradicts nearby.
  assert.equal(set.rows.length, DEFAULT_TRAINING_SET.length);
  assert.equal(set.fromUser.filter(Boolean).length, 1);
});

test(`only the ${MAX_USER_EXAMPLES} most recent valid overrides are used`, () => {
  const examples = Array.from({ length: MAX_USER_EXAMPLES + 100 }, (_, i) => override(job(1 + (i % 16), 'normal', (10 + i) * M), 'high', i));
  const invalid = [override(job(MAX_GPUS + 1, 'normal', H), 'low', 10_000), { ...override(job(1, 'normal', H), 'low', 10_001), label: 'urgent' as Priority }];
  const set = buildTrainingSet([], [...invalid, ...examples]);
  assert.equal(set.rows.length, MAX_USER_EXAMPLES);
  const runtimes = new Set(set.rows.map((row) => Math.round(2 ** row[3] * H)));
  assert.ok(runtimes.has((10 + MAX_USER_EXAMPLES + 99) * M), 'the newest is kept');
  assert.ok(!runtimes.has(10 * M), 'the oldest is dropped');
  assert.doesNotThrow(() => new PriorityClassifier([...invalid, ...examples]));
});

test('out-of-range features are rejected with a message naming the field', () => {
  const classifier = new PriorityClassifier();
  const ok = job(2, 'normal', H, 10);
  const cases: Array<[Partial<JobFeatures>, keyof JobFeatures, RegExp]> = [
    [{ gpus: 65 }, 'gpus', /GPUs \(gpus\) must be a whole number from 0 to 64 \(got 65\)/],
    [{ gpus: 1000 }, 'gpus', /gpus.*got 1000/],
    [{ gpus: -1 }, 'gpus', /gpus.*got -1/],
    [{ gpus: 1.5 }, 'gpus', /gpus.*whole number/],
    [{ gpus: NaN }, 'gpus', /gpus.*got NaN/],
    [{ runtimeSec: 30 }, 'runtimeSec', /Runtime must be between 1m and 30d \(got 30s\)/],
    [{ runtimeSec: 31 * D }, 'runtimeSec', /Runtime.*got 31d/],
    [{ runtimeSec: Infinity }, 'runtimeSec', /Runtime.*got Infinity/],
    [{ expectedGain: 150 }, 'expectedGain', /Expected gain must be a percentage from 0 to 100.*got 150/],
    [{ expectedGain: -5 }, 'expectedGain', /Expected gain.*got -5/],
    [{ expectedGain: NaN }, 'expectedGain', /Expected gain.*got NaN/],
    [{ importance: 'urgent' as Importance }, 'importance', /Importance must be one of low, normal, high \(got "urgent"\)/],
  ];
  for (const [change, field, message] of cases) {
    const features = { ...ok, ...change };
    for (const check of [() => validateFeatures(features), () => classifier.classify(features)]) {
      assert.throws(check, (e: unknown) => e instanceof FeatureError && e.field === field && message.test(e.message), JSON.stringify(change));
    }
  }
  assert.doesNotThrow(() => classifier.classify(job(MAX_GPUS, 'low', MAX_RUNTIME_SEC, 100)));
  assert.doesNotThrow(() => classifier.classify(job(0, 'high', MIN_RUNTIME_SEC, 0)));
});
