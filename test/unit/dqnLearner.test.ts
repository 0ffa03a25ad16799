import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveBackend } from '../../src/agent/backend';
import { DEFAULT_DQN_CONFIG, DqnLearner, huberLoss } from '../../src/agent/dqnLearner';
import { FEATURE_COUNT } from '../../src/agent/encoder';
import { initialParameters } from '../../src/agent/qNetwork';
import { createRng } from '../../src/sim/rng';

test('the hand-written Huber loss matches tfjs in value and gradient', async () => {
  const { tf } = await resolveBackend('cpu');
  const predicted = tf.tensor2d([[0.2], [3], [-2.5], [0.9]]);
  const target = tf.tensor2d([[0], [0], [0.5], [1.4]]);
  const ours = huberLoss(tf);
  const reference = (p: typeof predicted) => tf.losses.huberLoss(target, p) as ReturnType<typeof ours>;
  assert.ok(Math.abs(ours(predicted, target).dataSync()[0] - reference(predicted).dataSync()[0]) < 1e-6);
  const g1 = tf.grad((p) => ours(p, target))(predicted).dataSync();
  const g2 = tf.grad((p) => reference(p as typeof predicted))(predicted).dataSync();
  g1.forEach((g, i) => assert.ok(Math.abs(g - g2[i]) < 1e-6, `gradient ${i}: ${g} vs ${g2[i]}`));
});

test('Q-values regress to the rewards of terminal transitions, and the counters count', async () => {
  const { tf } = await resolveBackend('wasm');
  const shape = { inputs: FEATURE_COUNT, hidden: [16, 16] };
  const learner = new DqnLearner(tf, { ...DEFAULT_DQN_CONFIG, hidden: [16, 16], learningRate: 3e-3, minReplay: 32, batchSize: 32 }, shape, createRng(1, 'learner').next, {
    kind: 'fresh',
    arrays: initialParameters(shape, createRng(1, 'init').next),
  });
  // Two situations with known costs and no successor: the regression target is simply minus the cost.
  const rowA = new Float32Array(FEATURE_COUNT).fill(0.5);
  const rowB = new Float32Array(FEATURE_COUNT).fill(-0.5);
  for (let i = 0; i < 64; i++) {
    learner.remember({ row: i % 2 ? rowA : rowB, cost: i % 2 ? 2 : 0.5, elapsed: 0, next: new Float32Array(0), nextCount: 0 });
  }
  let loss = Infinity;
  for (let i = 0; i < 400; i++) {
    loss = learner.trainStep() as number;
  }
  const q = learner.evaluate(Float32Array.from([...rowA, ...rowB]), 2);
  assert.ok(Math.abs(q[0] + 2) < 0.1 && Math.abs(q[1] + 0.5) < 0.1, `Q = ${q[0]}, ${q[1]}`);
  assert.ok(loss < 0.01, `final loss ${loss}`);
  const counters = learner.snapshotCounters();
  assert.equal(counters.trainSteps, 400);
  assert.equal(counters.replaySize, 64);
  learner.dispose();
});
