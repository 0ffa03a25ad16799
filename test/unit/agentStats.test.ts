import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentStats, type DecisionRecord, type TrainRecord } from '../../src/agent/agentStats';
import { RingBuffer } from '../../src/agent/ringBuffer';
import { createAgent } from '../../src/agent/agentSetup';
import { resolveBackend } from '../../src/agent/backend';
import { createRng } from '../../src/sim/rng';
import type { HostCandidate } from '../../src/core/placement';
import { makeJob } from '../support/builders';

test('a ring keeps the newest items, oldest first', () => {
  const ring = new RingBuffer<number>(3);
  assert.deepEqual(ring.toArray(), []);
  [1, 2].forEach((n) => ring.push(n));
  assert.deepEqual(ring.toArray(), [1, 2]);
  [3, 4, 5].forEach((n) => ring.push(n));
  assert.deepEqual(ring.toArray(), [3, 4, 5]);
  assert.equal(ring.size, 3);
  assert.throws(() => new RingBuffer(0), RangeError);
});

test('a resized ring keeps its newest items in order and then wraps at the new capacity', () => {
  const ring = new RingBuffer<number>(4);
  [1, 2, 3, 4, 5, 6].forEach((n) => ring.push(n)); // wrapped: storage holds 5 6 3 4
  ring.resize(3);
  assert.deepEqual([ring.toArray(), ring.capacity], [[4, 5, 6], 3]);
  ring.push(7);
  assert.deepEqual(ring.toArray(), [5, 6, 7]);
  ring.resize(5);
  [8, 9, 10].forEach((n) => ring.push(n));
  assert.deepEqual(ring.toArray(), [6, 7, 8, 9, 10]);
  assert.equal(ring.findLast((n) => n < 9), 8);
  assert.throws(() => ring.resize(0), RangeError);
  assert.deepEqual(ring.toArray(), [6, 7, 8, 9, 10], 'a refused size changes nothing');
});

test('a new chart history length applies to every series at once', () => {
  const stats = new AgentStats('wasm', { points: 5 });
  for (let i = 0; i < 5; i++) {
    stats.recordTrainStep({ step: i + 1, loss: i });
  }
  stats.recordReward(1_000, -1, 0.5);
  assert.equal(stats.series.loss.size, 5);
  stats.setPointCapacity(2);
  for (const ring of Object.values(stats.series)) {
    assert.equal(ring.capacity, 2);
  }
  assert.deepEqual(stats.series.loss.toArray().map((p) => p.v), [3, 4], 'the newest losses stay');
  assert.equal(stats.series.reward.size, 1);
});

test('stats fire events, stay bounded and average recent losses', () => {
  const stats = new AgentStats('wasm', { decisions: 2, trainSteps: 3 });
  const seen: TrainRecord[] = [];
  const sub = stats.onTrainStep((r) => seen.push(r));
  [4, 2, 6, 8].forEach((loss, i) => stats.recordTrainStep({ step: i + 1, loss }));
  assert.equal(seen.length, 4);
  assert.deepEqual(stats.trainSteps.toArray().map((r) => r.step), [2, 3, 4]);
  assert.equal(stats.recentLoss(2), 7);
  sub.dispose();
  stats.recordTrainStep({ step: 5, loss: 1 });
  assert.equal(seen.length, 4, 'a disposed listener hears nothing');
  stats.updateFigures({ epsilon: 0.1, trainSteps: 5 });
  assert.deepEqual(stats.figures, { backend: 'wasm', epsilon: 0.1, replaySize: 0, trainSteps: 5, decisions: 0 });
  assert.ok(Number.isNaN(new AgentStats('cpu').recentLoss()));
});

test('each decision records every candidate with its Q-value, the choice and whether it explored', async () => {
  const { tf } = await resolveBackend('cpu');
  const stats = new AgentStats('cpu');
  const decisions: DecisionRecord[] = [];
  stats.onDecision((d) => decisions.push(d));
  const agent = createAgent(tf, undefined, { init: createRng(1, 'init').next, learner: createRng(1, 'learner').next }, { config: { epsilonStart: 0, epsilonEnd: 0 }, placement: { waitOffer: 'faster-host', soonestWhenUncontended: false }, stats });
  const a: HostCandidate = { host: 'a', totalGpus: 2, freeGpus: [0, 1], speed: 1, runningJobs: 0, maxJobs: 2 };
  const b: HostCandidate = { host: 'b', totalGpus: 2, freeGpus: [1], speed: 2, runningJobs: 1, maxJobs: 2 };
  // A busy, much faster host whose job ends within the hour: waiting for it is one of the candidates.
  const c: HostCandidate = { host: 'c', totalGpus: 1, freeGpus: [], speed: 4, runningJobs: 1, maxJobs: 1 };
  const blocker = makeJob({ state: 'running', host: 'c', startedAt: 5000, runtimeSec: 4 * 3600 });
  const job = makeJob({ id: 'j1', name: 'train.py', runtimeSec: 20 * 3600 });
  agent.placement.beginRound({ nowMs: 5000, queued: [job], running: [blocker] });
  const decision = agent.placement.choose(job, [a, b], [a, b, c]);
  assert.equal(decisions.length, 1);
  const d = decisions[0];
  assert.equal(d.jobId, 'j1');
  assert.equal(d.atMs, 5000);
  assert.deepEqual(d.candidates.map((c) => c.host), ['a', 'b', undefined]);
  assert.ok(d.candidates.every((c) => Number.isFinite(c.q)));
  assert.equal(d.explored, false);
  const best = d.candidates.reduce((m, c) => (c.q > m.q ? c : m));
  assert.equal(d.chosen, best.host, 'greedy picks the highest Q');
  assert.equal(decision.kind === 'place' ? decision.host : undefined, best.host);
  agent.placement.beginRound({ nowMs: 6000, queued: [], running: [] });
  assert.equal(stats.figures.decisions, 1, 'figures refresh at each round');
  agent.learner.dispose();
});
