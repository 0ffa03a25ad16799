import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveBackend } from '../../src/agent/backend';
import { PlainQNetwork } from '../../src/agent/plainQNetwork';
import { initialParameters, QNetwork } from '../../src/agent/qNetwork';
import { loadAgentState } from '../../src/agent/agentStore';
import { SHIPPED_WEIGHTS } from '../../src/sim/dqnPolicy';
import { createRng } from '../../src/sim/rng';

test('the plain forward pass scores rows as the TensorFlow.js network does', async () => {
  const { tf } = await resolveBackend('cpu');
  const state = (await loadAgentState(SHIPPED_WEIGHTS))!;
  const rng = createRng(7, 'plain-q');
  const shapes = [state.network, { inputs: 22, hidden: [16] }, { inputs: 22, hidden: [32, 8, 4] }];
  for (const shape of shapes) {
    const net = shape === state.network ? QNetwork.fromSerialized(tf, shape, state.weights) : QNetwork.fromArrays(tf, shape, initialParameters(shape, rng.next));
    const plain = new PlainQNetwork(shape, net.flatParameters());
    const count = 9;
    const rows = Float32Array.from({ length: count * shape.inputs }, () => rng.next() * 4 - 2);
    const expected = net.predict(rows, count);
    const actual = plain.predict(rows, count);
    assert.equal(actual.length, count);
    for (let i = 0; i < count; i++) {
      assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])), `row ${i}: ${actual[i]} vs ${expected[i]}`);
    }
    net.dispose();
  }
});

test('parameters of the wrong length are refused with the expected count', () => {
  assert.throws(() => new PlainQNetwork({ inputs: 22, hidden: [4] }, new Float32Array(10)), /22→4→1 network has 97 parameters, got 10/);
});
