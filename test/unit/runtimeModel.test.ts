import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { RuntimeModel, type RunObservation } from '../../src/core/runtimeModel';
import { millsRatio } from '../../src/core/normalTail';
import { RuntimeModelStateError } from '../../src/core/runtimeModelState';
import { argMap } from '../../src/core/runtimeIdentity';
import { SoonestFinishPlacement } from '../../src/core/placementPolicies';
import type { HostCandidate } from '../../src/core/placement';
import type { Job } from '../../src/core/job';

/** A seeded uniform stream (LCG): enough for noise in a test. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const HOSTS = [
  { name: 'a', declaredSpeed: 1 },
  { name: 'b', declaredSpeed: 1 },
];
/** The truth: script "cnn" runs 2 h on a and 0.5 h on b; "rnn" 1 h on a and 3 h on b. A per-script affinity no host speed expresses. */
const TRUTH: Record<string, Record<string, number>> = { 'cnn.py': { a: 7200, b: 1800 }, 'rnn.py': { a: 3600, b: 10_800 } };

function run(model: RuntimeModel, script: string, host: string, noise: () => number, at: number, extra: Partial<RunObservation> = {}): void {
  const runSec = TRUTH[script][host] * Math.exp(0.1 * (noise() - 0.5));
  model.observe({ script, args: [], gpus: 1, estimateSec: 3600, host, declaredSpeed: 1, runSec, censored: false, atMs: at, ...extra });
}

test('learns a per-script host affinity: after a handful of runs it predicts within 10 % and the soonest placement follows it', () => {
  const model = new RuntimeModel();
  const noise = rng(7);
  let at = 0;
  for (let i = 0; i < 6; i++) {
    for (const script of ['cnn.py', 'rnn.py']) {
      for (const host of ['a', 'b']) {
        run(model, script, host, noise, (at += 1000));
      }
    }
  }
  for (const script of ['cnn.py', 'rnn.py']) {
    const predicted = model.predictOn({ script, args: [], gpus: 1, estimateSec: 3600 }, HOSTS);
    HOSTS.forEach((h, i) => {
      const ratio = predicted[i].medianSec / TRUTH[script][h.name];
      assert.ok(Math.abs(ratio - 1) < 0.1, `${script} on ${h.name}: predicted ${predicted[i].medianSec.toFixed(0)} s, truth ${TRUTH[script][h.name]} s`);
      assert.ok(predicted[i].p80Sec > predicted[i].medianSec, 'p80 above the median');
    });
  }
  // The placement sees the learned speed for the job's script on each host (as learnedRuntimes.ts offers it).
  const placement = new SoonestFinishPlacement();
  for (const [script, expected] of [['cnn.py', 'b'], ['rnn.py', 'a']] as const) {
    const base = model.predictBase({ script, args: [], gpus: 1, estimateSec: 3600 }).medianSec;
    const hosts: HostCandidate[] = HOSTS.map((h) => ({
      host: h.name, totalGpus: 1, freeGpus: [0], runningJobs: 0, maxJobs: 1, speed: model.learnedSpeed(h, script).speed,
    }));
    const job = { runtimeSec: base, gpus: 1 } as Job;
    assert.deepEqual(placement.choose(job, hosts), { kind: 'place', host: expected }, `${script} goes to ${expected}`);
  }
});

test('learns which arguments change run time: --epochs does, --seed does not', () => {
  const model = new RuntimeModel();
  const noise = rng(3);
  for (let i = 0; i < 40; i++) {
    const epochs = [10, 40][i % 2];
    const runSec = epochs * 360 * Math.exp(0.1 * (noise() - 0.5));
    // The user's guesses: right on average, off by up to ±40 % each time.
    const estimateSec = epochs * 360 * Math.exp(0.7 * (noise() - 0.5));
    model.observe({ script: 't.py', args: ['--epochs', String(epochs), '--seed', String(i)], gpus: 1, estimateSec, host: 'a', declaredSpeed: 1, runSec, censored: false, atMs: i });
  }
  for (const epochs of [10, 40]) {
    const p = model.predictOn({ script: 't.py', args: ['--epochs', String(epochs), '--seed', '999'], gpus: 1, estimateSec: epochs * 360 }, [HOSTS[0]])[0];
    assert.ok(Math.abs(p.medianSec / (epochs * 360) - 1) < 0.1, `--epochs ${epochs}: predicted ${p.medianSec.toFixed(0)} s, truth ${epochs * 360} s`);
    assert.ok(p.runs >= 5, 'counts the earlier runs with the same epochs despite a new seed');
  }
});

test('censored runs never shorten a prediction', () => {
  const noise = rng(11);
  for (const censoredSec of [60, 1800, 3600, 7200, 86_400]) {
    const model = new RuntimeModel();
    for (let i = 0; i < 5; i++) {
      run(model, 'cnn.py', 'a', noise, i);
    }
    const before = model.predictOn({ script: 'cnn.py', args: [], gpus: 1, estimateSec: 3600 }, [HOSTS[0]])[0].medianSec;
    model.observe({ script: 'cnn.py', args: [], gpus: 1, estimateSec: 3600, host: 'a', declaredSpeed: 1, runSec: censoredSec, censored: true, atMs: 99 });
    const after = model.predictOn({ script: 'cnn.py', args: [], gpus: 1, estimateSec: 3600 }, [HOSTS[0]])[0].medianSec;
    assert.ok(after >= before - 1e-6, `a run cancelled after ${censoredSec} s moved the prediction from ${before} to ${after}`);
    if (censoredSec > 2 * before) {
      assert.ok(after > before * 1.05, `a run cancelled after ${censoredSec} s (well past ${before.toFixed(0)} s) raises it`);
    }
  }
});

test('with no history it predicts the estimate; its state survives a round trip through JSON', () => {
  const model = new RuntimeModel();
  assert.equal(Math.round(model.predictBase({ script: 'new.py', args: [], gpus: 2, estimateSec: 5400 }).medianSec), 5400);
  const noise = rng(5);
  for (let i = 0; i < 8; i++) {
    run(model, 'rnn.py', i % 2 ? 'a' : 'b', noise, i);
  }
  const copy = RuntimeModel.fromState(JSON.parse(JSON.stringify(model.toState())));
  const q = { script: 'rnn.py', args: [], gpus: 1, estimateSec: 3600 };
  assert.deepEqual(copy.predictOn(q, HOSTS), model.predictOn(q, HOSTS));
  assert.deepEqual(copy.recent, model.recent);
});

test('a damaged state is refused with a message naming the field', () => {
  const state = new RuntimeModel().toState();
  assert.throws(() => RuntimeModel.fromState({ ...state, version: 99 }), (e: Error) => e instanceof RuntimeModelStateError && /version 99/.test(e.message));
  assert.throws(() => RuntimeModel.fromState({ ...state, scripts: [{ script: 'x.py', lastMs: 0, runs: [{ args: [], gpus: 1, host: 'a', sec: -5, censored: false, atMs: 0 }], defs: [], speeds: [] }] }), /a run of x\.py/);
  assert.throws(() => RuntimeModel.fromState('nonsense'), /not an object/);
});

test('bad observations are ignored, and the model stays bounded', () => {
  const model = new RuntimeModel();
  for (const runSec of [0, -1, NaN, Infinity]) {
    model.observe({ script: 'x.py', args: [], gpus: 1, host: 'a', declaredSpeed: 1, runSec, censored: false, atMs: 0 });
  }
  assert.equal(model.observed, 0);
  for (let i = 0; i < 400; i++) {
    model.observe({ script: `s${i}.py`, args: [], gpus: 1, host: 'a', declaredSpeed: 1, runSec: 100, censored: false, atMs: i });
  }
  for (let i = 0; i < 100; i++) {
    model.observe({ script: 's399.py', args: [], gpus: 1, host: 'a', declaredSpeed: 1, runSec: 100, censored: false, atMs: 1000 + i });
  }
  assert.equal(model.scripts.size, 200);
  assert.equal(model.scripts.get("s399.py")?.runs.length, 24);
  assert.ok(model.recent.length <= 200);
});

test('argument parsing: --k v, --k=v, flags and positionals', () => {
  assert.deepEqual([...argMap(['data/x', '--epochs', '5', '--lr=0.1', '--fp16', '-b', '32'])], [['#0', 'data/x'], ['--epochs', '5'], ['--lr', '0.1'], ['--fp16', ''], ['-b', '32']]);
});

test("millsRatio is φ/(1−Φ): 0.798 at 0, about a for large a", () => {
  assert.ok(Math.abs(millsRatio(0) - 0.7979) < 1e-3);
  assert.ok(Math.abs(millsRatio(10) - 10.098) < 0.01);
  assert.ok(millsRatio(-10) < 1e-10);
});

test('two equal hosts stay equal: learned speeds do not drift away from the declared ones', () => {
  const model = new RuntimeModel();
  const noise = rng(13);
  for (let i = 0; i < 600; i++) {
    const script = `s${i % 7}.py`;
    const runSec = 1000 * (1 + (i % 7)) * Math.exp(0.3 * (noise() - 0.5));
    model.observe({ script, args: [], gpus: 1, estimateSec: runSec * Math.exp(noise() - 0.5), host: i % 2 ? 'a' : 'b', declaredSpeed: 1, runSec, censored: false, atMs: i });
  }
  for (const h of HOSTS) {
    const { speed } = model.learnedSpeed(h);
    assert.ok(Math.abs(Math.log(speed)) < 0.1, `${h.name} learned ${speed.toFixed(3)} for a declared 1.0`);
  }
  const base = model.predictBase({ script: 's0.py', args: [], gpus: 1, estimateSec: 1000 }).medianSec;
  assert.ok(Math.abs(Math.log(base / 1000)) < 0.2, `base ${base.toFixed(0)} s for a 1,000 s script`);
});
