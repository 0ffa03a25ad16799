import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer, type Transition } from '../../src/agent/replayBuffer';
import { createRng } from '../../src/sim/rng';

function transition(id: number): Transition {
  return { row: Float32Array.of(id), cost: id, elapsed: 1, next: new Float32Array(0), nextCount: 0 };
}

test('the buffer keeps the newest transitions once full', () => {
  const buffer = new ReplayBuffer(3);
  for (let i = 1; i <= 5; i++) {
    buffer.push(transition(i));
  }
  assert.equal(buffer.size, 3);
  const seen = new Set(buffer.sample(200, createRng(1, 'replay').next).map((t) => t.cost));
  assert.deepEqual([...seen].sort(), [3, 4, 5]);
});

test('sampling is uniform and repeatable for a seed', () => {
  const buffer = new ReplayBuffer(4);
  [0, 1, 2, 3].forEach((i) => buffer.push(transition(i)));
  const counts = [0, 0, 0, 0];
  buffer.sample(4000, createRng(7, 'replay').next).forEach((t) => (counts[t.cost] += 1));
  counts.forEach((c) => assert.ok(c > 850 && c < 1150, `each item drawn about a quarter of the time, got ${counts.join(',')}`));
  const a = buffer.sample(20, createRng(3, 'replay').next).map((t) => t.cost);
  const b = buffer.sample(20, createRng(3, 'replay').next).map((t) => t.cost);
  assert.deepEqual(a, b);
});

test('an empty buffer samples nothing, and bad capacities are refused', () => {
  assert.deepEqual(new ReplayBuffer(2).sample(5, Math.random), []);
  assert.throws(() => new ReplayBuffer(0), RangeError);
  assert.throws(() => new ReplayBuffer(1.5), RangeError);
  const b = new ReplayBuffer(2);
  b.push(transition(1));
  b.clear();
  assert.equal(b.size, 0);
});
