import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Logger } from '../../src/core/logger';
import { agentStateOf, createAgent } from '../../src/agent/agentSetup';
import { DEFAULT_PLACEMENT_OPTIONS } from '../../src/agent/dqnPlacement';
import { AgentStateError, loadAgentState, parseAgentState, saveAgentState, serializeAgentState, type AgentState } from '../../src/agent/agentStore';
import { resolveBackend } from '../../src/agent/backend';
import { FEATURE_COUNT } from '../../src/agent/encoder';
import { decodeFloats, encodeFloats } from '../../src/agent/qNetwork';
import { createRng } from '../../src/sim/rng';
import { SHIPPED_WEIGHTS } from '../../src/sim/dqnPolicy';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-agent-'));
}

function warnings(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const none = () => undefined;
  return { lines, trace: none, debug: none, info: none, error: none, warn: (m: string) => lines.push(m) };
}

async function freshState(seed: number): Promise<AgentState> {
  const { tf } = await resolveBackend('cpu');
  const agent = createAgent(tf, undefined, { init: createRng(seed, 'init').next, learner: createRng(seed, 'learner').next });
  const state = agentStateOf(agent, { command: 'test', seed });
  agent.learner.dispose();
  return state;
}

const probeRows = (): Float32Array => Float32Array.from({ length: 5 * FEATURE_COUNT }, (_, i) => Math.sin(i * 0.37));

test('floats survive base64 exactly, including awkward values', () => {
  const values = Float32Array.of(0, -0, 1.5, -3.25e-12, 3.4e38, Math.fround(Math.PI));
  assert.deepEqual(decodeFloats(encodeFloats(values)), values);
  assert.throws(() => decodeFloats('AAA='), /not a whole number of float32/);
});

test('save then load gives the same weights and counters, and leaves no temp files', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'agent', 'dqn.json');
  const state = await freshState(1);
  await saveAgentState(file, state);
  await saveAgentState(file, { ...state, counters: { ...state.counters, trainSteps: 42 } });
  const loaded = await loadAgentState(file);
  assert.equal(loaded?.counters.trainSteps, 42);
  assert.deepEqual(loaded?.weights, state.weights);
  assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ['dqn.json', 'dqn.json.bak']);
  assert.equal(JSON.parse(fs.readFileSync(`${file}.bak`, 'utf8')).counters.trainSteps, 0, 'the previous save is the backup');
});

test('a damaged file falls back to the backup with a warning; nothing usable means undefined', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'dqn.json');
  const state = await freshState(2);
  await saveAgentState(file, state);
  await saveAgentState(file, state);
  fs.writeFileSync(file, '{"format": "trainq-dqn", "vers');
  const log = warnings();
  const loaded = await loadAgentState(file, log);
  assert.deepEqual(loaded?.weights, state.weights);
  assert.match(log.lines.join('\n'), /could not be read \(.*not valid JSON.*\); using the backup/);

  fs.writeFileSync(`${file}.bak`, 'garbage');
  const none = warnings();
  assert.equal(await loadAgentState(file, none), undefined);
  assert.match(none.lines.join('\n'), /no usable backup/);
  assert.equal(await loadAgentState(path.join(dir, 'missing.json'), none), undefined);
});

test('files from other formats, versions or feature sets are refused, not misread', async () => {
  const state = await freshState(3);
  const text = (over: object) => serializeAgentState({ ...state, ...over } as AgentState);
  assert.throws(() => parseAgentState(text({ format: 'other' }), 'f'), AgentStateError);
  assert.throws(() => parseAgentState(text({ version: 2 }), 'f'), /version 2/);
  assert.throws(() => parseAgentState(text({ featureVersion: 0 }), 'f'), /feature set 0/);
  assert.throws(() => parseAgentState(text({ network: { inputs: FEATURE_COUNT + 1, hidden: [64] } }), 'f'), /network must be/);
  const broken = { ...state, weights: state.weights.map((w, i) => (i === 0 ? { ...w, data: encodeFloats(Float32Array.of(NaN)) } : w)) };
  assert.throws(() => parseAgentState(serializeAgentState(broken), 'f'), /weight w0/);
  assert.throws(() => parseAgentState(text({ counters: { trainSteps: 1 } }), 'f'), /counters/);
  assert.throws(() => parseAgentState(text({ waitOffer: 'sometimes' }), 'f'), /waitOffer must be one of never, faster-host, when-safe/);
});

test('the wait offer travels with the weights; a file from before it gets the default', async () => {
  const { tf } = await resolveBackend('cpu');
  const state = await freshState(5);
  const offerOf = (s: AgentState) => {
    const agent = createAgent(tf, s, { init: Math.random, learner: Math.random });
    const offer = agent.placement.waitOffer;
    const saved = agentStateOf(agent);
    agent.learner.dispose();
    return { offer, saved: saved.waitOffer };
  };
  assert.deepEqual(offerOf({ ...state, waitOffer: 'never' }), { offer: 'never', saved: 'never' });
  assert.deepEqual(offerOf({ ...state, waitOffer: 'when-safe' }), { offer: 'when-safe', saved: 'when-safe' });
  const { waitOffer: _dropped, ...legacy } = state;
  const fallback = DEFAULT_PLACEMENT_OPTIONS.waitOffer;
  assert.deepEqual(offerOf(parseAgentState(serializeAgentState(legacy as AgentState), 'old file')), { offer: fallback, saved: fallback });
});

test('weights saved on one backend load on another and give the same Q-values', async () => {
  const state = await freshState(4);
  const cpu = await resolveBackend('cpu');
  const onCpu = createAgent(cpu.tf, state, { init: Math.random, learner: Math.random });
  const qCpu = onCpu.learner.evaluate(probeRows(), 5);
  const saved = agentStateOf(onCpu);
  onCpu.learner.dispose();

  const wasm = await resolveBackend('wasm');
  assert.equal(wasm.name, 'wasm');
  const onWasm = createAgent(wasm.tf, parseAgentState(serializeAgentState(saved), 'round trip'), { init: Math.random, learner: Math.random });
  const qWasm = onWasm.learner.evaluate(probeRows(), 5);
  onWasm.learner.dispose();
  qCpu.forEach((q, i) => assert.ok(Math.abs(q - qWasm[i]) < 1e-5, `row ${i}: cpu ${q} vs wasm ${qWasm[i]}`));
  assert.ok(new Set(qCpu).size > 1, 'the probe rows are told apart');
});

test('the shipped weights are a valid agent file with their provenance recorded', async () => {
  const state = await loadAgentState(SHIPPED_WEIGHTS);
  assert.ok(state, `${SHIPPED_WEIGHTS} loads`);
  assert.match(state.provenance?.command ?? '', /^npm run train-agent/);
  assert.equal(typeof state.provenance?.seed, 'number');
  assert.ok(state.counters.trainSteps > 0, 'the shipped set was trained');
  assert.ok(fs.existsSync(path.join(path.dirname(SHIPPED_WEIGHTS), 'README.md')), 'a README sits next to the weights');
});
