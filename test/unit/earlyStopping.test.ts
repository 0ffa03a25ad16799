import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ashaRungs, createStopRule, valueAtOrBefore } from '../../src/core/sweep/earlyStopping';
import type { EarlyStoppingSpec, Goal, MetricPoint, TrialRecord, TrialState } from '../../src/core/sweep/sweepTypes';
import { createRng, type Rng } from '../../src/sim/rng';

const MEDIAN: EarlyStoppingSpec = { rule: 'median', graceSteps: 3, minTrials: 3 };
const ASHA: EarlyStoppingSpec = { rule: 'asha', minSteps: 9, reduction: 3, maxSteps: 27 };

function record(trial: number, state: TrialState, values: readonly number[], firstStep = 1): TrialRecord {
  return { trial, params: {}, state, curve: values.map((value, i) => ({ step: firstStep + i, value })) };
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * A sweep of 20 trials whose final accuracy is known (0.50 to 0.95, evenly spaced, proposed in random
 * order), run `parallel` at a time at random speeds, reports interleaved in random order; every report
 * is judged by the rule and a stopped trial reports no more. Curves rise as q·(1 − e^(−step/4)) with a
 * little noise; for goal min the metric is 1 − accuracy. Returns each trial's final state and its true
 * rank (0 = best).
 */
function simulateSweep(spec: EarlyStoppingSpec, goal: Goal, seed: number, parallel = 4): { trials: TrialRecord[]; rank: number[] } {
  const rng = createRng(seed, 'sweep');
  const count = 20;
  const steps = 27;
  const quality = shuffled(Array.from({ length: count }, (_, i) => 0.5 + (0.45 * i) / (count - 1)), rng);
  const speed = quality.map(() => 0.3 + rng.next());
  const progress = quality.map(() => 0);
  const trials = quality.map((_, i) => record(i + 1, 'queued', []));
  const rule = createStopRule(spec, goal, 'val');
  let next = 0;
  for (let tick = 0; tick < 10_000; tick++) {
    while (next < count && trials.filter((t) => t.state === 'running').length < parallel) {
      trials[next++].state = 'running';
    }
    const running = shuffled(trials.filter((t) => t.state === 'running'), rng);
    if (running.length === 0) {
      break;
    }
    for (const t of running) {
      const i = t.trial - 1;
      for (progress[i] += speed[i]; progress[i] >= 1 && t.state === 'running'; progress[i]--) {
        const step = t.curve.length + 1;
        const accuracy = quality[i] * (1 - Math.exp(-step / 4)) + 0.003 * rng.normal();
        t.curve.push({ step, value: goal === 'max' ? accuracy : 1 - accuracy });
        t.state = rule.decide(t, trials).stop ? 'stopped' : step === steps ? 'succeeded' : 'running';
      }
    }
  }
  return { trials, rank: quality.map((q) => quality.filter((o) => o > q).length) };
}

function stoppedRanks(spec: EarlyStoppingSpec, goal: Goal, seed: number): number[] {
  const { trials, rank } = simulateSweep(spec, goal, seed);
  assert.ok(trials.every((t) => t.state === 'stopped' || t.state === 'succeeded'), 'the sweep ran to its end');
  return trials.filter((t) => t.state === 'stopped').map((t) => rank[t.trial - 1]);
}

test('off never stops, whatever the curves', () => {
  const rule = createStopRule({ rule: 'off' }, 'max');
  const others = Array.from({ length: 10 }, (_, i) => record(i + 2, 'succeeded', [0.9, 0.95, 0.99]));
  assert.deepEqual(rule.decide(record(1, 'running', [0, 0, 0]), others), { stop: false, why: 'early stopping is off' });
});

test('median: on a clear sweep the true top 3 are never stopped and most of the bottom half are', () => {
  for (let seed = 1; seed <= 20; seed++) {
    for (const goal of ['max', 'min'] as const) {
      const ranks = stoppedRanks(MEDIAN, goal, seed);
      assert.deepEqual(ranks.filter((r) => r < 3), [], `seed ${seed} ${goal}`);
      // The first trials run with no finished ones to compare with, so not all of the bottom half can be caught.
      assert.ok(ranks.filter((r) => r >= 10).length >= 6, `seed ${seed} ${goal}: ${ranks.filter((r) => r >= 10).length} of the bottom 10 stopped`);
    }
  }
});

test('median: worse than the median of the finished trials at the same step stops, with the numbers in words', () => {
  const rule = createStopRule({ rule: 'median', graceSteps: 6, minTrials: 5 }, 'min', 'val_loss');
  const others = [0.2, 0.3, 0.331, 0.35, 0.5].map((v, i) => record(i + 2, i % 2 ? 'succeeded' : 'stopped', [0.9, 0.8, 0.7, 0.6, 0.5, v, 0.01]));
  const bad = record(1, 'running', [0.9, 0.7, 0.6, 0.5, 0.45, 0.412]);
  assert.deepEqual(rule.decide(bad, [bad, ...others]), { stop: true, why: 'val_loss 0.412 at step 6 is worse than the median 0.331 of 5 trials' });
  // Its best so far counts, not its latest value: a dip at step 3 to 0.3 beats the median.
  const dipped = record(1, 'running', [0.9, 0.7, 0.3, 0.5, 0.45, 0.412]);
  assert.deepEqual(rule.decide(dipped, [dipped, ...others]), { stop: false, why: 'val_loss 0.3 at step 6 is no worse than the median 0.331 of 5 trials' });
});

test('median: grace steps and minTrials hold it back; running, failed and too-short trials do not count', () => {
  const rule = createStopRule({ rule: 'median', graceSteps: 4, minTrials: 3 }, 'max', 'acc');
  const finished = [0.8, 0.85, 0.9].map((v, i) => record(i + 2, 'succeeded', [v, v, v, v, v]));
  const early = record(1, 'running', [0.1, 0.1, 0.1]);
  assert.equal(rule.decide(early, [early, ...finished]).stop, false, 'step 3 is within the grace period');
  assert.match(rule.decide(early, [early, ...finished]).why, /grace/);
  const late = record(1, 'running', [0.1, 0.1, 0.1, 0.1]);
  assert.equal(rule.decide(late, [late, ...finished]).stop, true);
  const notCounted = [
    record(5, 'running', [0.9, 0.9, 0.9, 0.9, 0.9]),
    record(6, 'failed', [0.9, 0.9, 0.9, 0.9, 0.9]),
    record(7, 'succeeded', [0.9, 0.9, 0.9]),
    record(8, 'cancelled', [0.9, 0.9, 0.9, 0.9]),
  ];
  const tooFew = [late, finished[0], finished[1], ...notCounted];
  assert.deepEqual(rule.decide(late, tooFew), { stop: false, why: 'only 2 finished trials reached step 4, the median rule waits for 3' });
});

test('median: another trial is valued at its largest step at or before this one (thinned curves skip steps)', () => {
  const thinned = (trial: number, value: number) => ({ trial, params: {}, state: 'succeeded' as const, curve: [{ step: 1, value: 0 }, { step: 3, value }, { step: 9, value: 1 }] });
  const rule = createStopRule({ rule: 'median', graceSteps: 1, minTrials: 3 }, 'max');
  const others = [thinned(2, 0.5), thinned(3, 0.6), thinned(4, 0.7)];
  assert.equal(valueAtOrBefore(others[0].curve, 5), 0.5);
  assert.equal(valueAtOrBefore(others[0].curve, 0), undefined);
  const me = record(1, 'running', [0.2, 0.4, 0.55, 0.58, 0.59]);
  assert.deepEqual(rule.decide(me, [me, ...others]), { stop: true, why: 'the metric 0.59 at step 5 is worse than the median 0.6 of 3 trials' });
  const lateStarter = { trial: 5, params: {}, state: 'succeeded' as const, curve: [{ step: 7, value: 0.99 }] };
  assert.deepEqual(rule.decide(me, [me, ...others, lateStarter]), rule.decide(me, [me, ...others]), 'a curve starting after step 5 has nothing to compare');
});

test('ASHA rungs: minSteps·reduction^k below maxSteps', () => {
  assert.deepEqual(ashaRungs(1, 3, 27), [1, 3, 9]);
  assert.deepEqual(ashaRungs(1, 3, 28), [1, 3, 9, 27]);
  assert.deepEqual(ashaRungs(2, 2, 20), [2, 4, 8, 16]);
  assert.deepEqual(ashaRungs(9, 3, 9), []);
  assert.deepEqual(ashaRungs(3, 1, 100), [3], 'a reduction below 2 cannot multiply: one rung');
  assert.ok(ashaRungs(1, 2, Number.MAX_SAFE_INTEGER).length <= 64);
});

test('ASHA: continues only in the top ⌊n/reduction⌋ of the trials at its current rung, with the cut-off in words', () => {
  const rule = createStopRule({ rule: 'asha', minSteps: 3, reduction: 3, maxSteps: 81 }, 'max', 'val_acc');
  const at = (trial: number, state: TrialState, rungValue: number) => record(trial, state, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, rungValue, 0.99]);
  const others = [0.95, 0.86, 0.8, 0.7, 0.6, 0.5].map((v, i) => at(i + 2, i % 2 ? 'running' : 'stopped', v));
  const mine = record(1, 'running', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.81]);
  assert.deepEqual(rule.decide(mine, [mine, ...others]), { stop: true, why: 'val_acc 0.81 at rung 9 is not in the top 1/3 of 7 trials there (cut-off 0.86)' });
  const good = record(1, 'running', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.9]);
  assert.deepEqual(rule.decide(good, [good, ...others]), { stop: false, why: 'val_acc 0.9 at rung 9 is in the top 1/3 of 7 trials there (cut-off 0.9)' });
  const tied = record(1, 'running', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.86]);
  assert.equal(rule.decide(tied, [tied, ...others]).stop, false, 'a tie with the cut-off keeps the trial');
  // Fewer than `reduction` trials at the rung: too few seen to cut.
  assert.deepEqual(rule.decide(mine, [mine, others[0]]), { stop: false, why: 'only 2 of the 3 trials needed to cut have reached rung 9' });
  assert.match(rule.decide(record(1, 'running', [0.1, 0.2]), others).why, /before the first rung 3/);
});

test('ASHA: a report that jumps past a rung is judged there, and a lower rung is never looked at again', () => {
  const rule = createStopRule({ rule: 'asha', minSteps: 2, reduction: 2, maxSteps: 100 }, 'min');
  const peers = [1, 2, 3].map((i) => ({ trial: i + 1, params: {}, state: 'running' as const, curve: [{ step: 2, value: 0.1 }, { step: 4, value: 0.05 }] }));
  const jumper: TrialRecord = { trial: 1, params: {}, state: 'running', curve: [{ step: 1, value: 0.9 }, { step: 3, value: 0.8 }] };
  assert.deepEqual(rule.decide(jumper, [jumper, ...peers]), { stop: true, why: 'the metric 0.9 at rung 2 is not in the top 1/2 of 4 trials there (cut-off 0.1)' });
  // Past rung 4 its (bad) rung-2 value no longer matters: it is judged by its value at rung 4 only.
  const recovered: TrialRecord = { ...jumper, curve: [{ step: 1, value: 0.9 }, { step: 4, value: 0.04 }, { step: 5, value: 0.03 }] };
  assert.deepEqual(rule.decide(recovered, [recovered, ...peers]), { stop: false, why: 'the metric 0.04 at rung 4 is in the top 1/2 of 4 trials there (cut-off 0.05)' });
});

test('ASHA: on a clear sweep the true top 3 are never stopped and nearly all of the bottom half are', () => {
  for (let seed = 1; seed <= 20; seed++) {
    for (const goal of ['max', 'min'] as const) {
      const ranks = stoppedRanks(ASHA, goal, seed);
      // Holds for these seeds, not for every order: see the test below for the order that cuts a runner-up.
      assert.deepEqual(ranks.filter((r) => r < 3), [], `seed ${seed} ${goal}`);
      assert.ok(ranks.filter((r) => r >= 10).length >= 9, `seed ${seed} ${goal}: ${ranks.filter((r) => r >= 10).length} of the bottom 10 stopped`);
    }
  }
});

test('ASHA stops rather than pauses, so arrival order can matter: a runner-up reaching a small rung third is cut', () => {
  // No asynchronous rule that stops for good can be order-free: with the leader first, the runner-up
  // arriving third is outside ⌊3/3⌋ = 1; had it come first (fewer than 3 there) it would have gone on
  // and, once past the rung, never been judged there again. The verdict for given curves is fixed;
  // which curves exist when a trial is judged is what the order changes.
  const rule = createStopRule({ rule: 'asha', minSteps: 2, reduction: 3, maxSteps: 18 }, 'max');
  const leader = record(1, 'running', [0.5, 0.9]);
  const weak = record(2, 'running', [0.1, 0.2]);
  const runnerUp = record(3, 'running', [0.4, 0.8]);
  assert.equal(rule.decide(runnerUp, [leader, weak, runnerUp]).stop, true);
  assert.equal(rule.decide(runnerUp, [runnerUp]).stop, false);
  const movedOn = record(3, 'running', [0.4, 0.8, 0.85, 0.86, 0.87, 0.88]);
  assert.equal(rule.decide(movedOn, [leader, weak, movedOn]).stop, false, 'past rung 6 by now, with no one else there');
});

/** Snapshots of a sweep part-way: every trial's curve cut at a random length, states mixed. */
function snapshot(rng: Rng, goal: Goal): TrialRecord[] {
  const states: TrialState[] = ['running', 'succeeded', 'stopped', 'failed'];
  return Array.from({ length: 12 }, (_, i) => {
    const q = rng.next();
    const length = 1 + Math.floor(rng.next() * 27);
    const curve: MetricPoint[] = Array.from({ length }, (_, s) => {
      const v = q * (1 - Math.exp(-(s + 1) / 5)) + 0.05 * rng.normal();
      return { step: s + 1, value: goal === 'max' ? v : -v };
    });
    return { trial: i + 1, params: {}, state: states[Math.floor(rng.next() * states.length)], curve };
  });
}

test('both rules: the verdict depends on the recorded curves only, never on the order trials are listed or reported in', () => {
  for (const spec of [MEDIAN, ASHA, { rule: 'asha', minSteps: 1, reduction: 2, maxSteps: 27 } as const]) {
    const rule = createStopRule(spec, 'max');
    let stops = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const rng = createRng(seed, 'order');
      const all = snapshot(rng, 'max');
      const verdicts = all.map((t) => rule.decide(t, all));
      stops += verdicts.filter((v) => v.stop).length;
      const reordered = shuffled(all, rng).map((t) => ({ ...t, curve: [...t.curve] }));
      assert.deepEqual(all.map((t) => rule.decide(t, reordered)), verdicts, `${spec.rule} seed ${seed}`);
      assert.deepEqual(all.map((t) => rule.decide(t, all)), verdicts, 'deciding again gives the same verdict');
    }
    assert.ok(stops > 50, `${spec.rule}: the snapshots exercise stopping (${stops} stops)`);
  }
});

test('both rules: goal min mirrors goal max exactly', () => {
  for (const spec of [MEDIAN, ASHA, { rule: 'asha', minSteps: 1, reduction: 2, maxSteps: 27 } as const]) {
    const max = createStopRule(spec, 'max');
    const min = createStopRule(spec, 'min');
    for (let seed = 1; seed <= 50; seed++) {
      const all = snapshot(createRng(seed, 'mirror'), 'max');
      const negated = all.map((t) => ({ ...t, curve: t.curve.map((p) => ({ step: p.step, value: -p.value })) }));
      assert.deepEqual(
        negated.map((t) => min.decide(t, negated).stop),
        all.map((t) => max.decide(t, all).stop),
        `${spec.rule} seed ${seed}`,
      );
    }
  }
});
