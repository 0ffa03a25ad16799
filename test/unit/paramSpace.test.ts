import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParamSpec } from '../../src/core/sweep/sweepTypes';
import {
  argsFor, decode, decodeValue, encode, encodeValue, formatValue, gridPoint, gridSize, gridValues, paramEnv, paramsKey, sampleUniform,
} from '../../src/core/sweep/paramSpace';
import { rngFor } from '../../src/core/sweep/seededRandom';

const SPACE: ParamSpec[] = [
  { name: 'lr', kind: 'float', min: 1e-4, max: 1e-1, log: true },
  { name: 'momentum', kind: 'float', min: 0, max: 0.99 },
  { name: 'batch', kind: 'int', min: 16, max: 256, log: true },
  { name: 'layers', kind: 'int', min: 1, max: 3 },
  { name: 'opt', kind: 'choice', values: ['sgd', 'adam', true, 3] },
];

test('the random stream is deterministic per (seed, parts) and differs between them', () => {
  const draw = (...parts: number[]) => Array.from({ length: 5 }, ((r) => () => r.next())(rngFor(parts[0], ...parts.slice(1))));
  assert.deepEqual(draw(7, 3, 1), draw(7, 3, 1));
  assert.notDeepEqual(draw(7, 3, 1), draw(7, 1, 3));
  assert.notDeepEqual(draw(7, 3), draw(8, 3));
  const r = rngFor(1, 'salt');
  const xs = Array.from({ length: 20_000 }, () => r.normal());
  const mean = xs.reduce((a, b) => a + b) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(sd - 1) < 0.03, `${mean} ${sd}`);
  const u = rngFor(-5, 2 ** 40);
  for (let i = 0; i < 1000; i++) {
    const x = u.next();
    assert.ok(x >= 0 && x < 1);
  }
});

test('uniform samples stay in bounds and use log scale where declared', () => {
  const r = rngFor(3);
  let lowDecade = 0;
  for (let i = 0; i < 3000; i++) {
    const p = sampleUniform(SPACE, r);
    assert.ok(Number(p.lr) >= 1e-4 && Number(p.lr) <= 1e-1);
    assert.ok(Number.isInteger(p.batch) && Number(p.batch) >= 16 && Number(p.batch) <= 256);
    assert.ok([1, 2, 3].includes(Number(p.layers)));
    assert.ok(['sgd', 'adam', true, 3].includes(p.opt));
    if (Number(p.lr) < 1e-3) lowDecade++;
  }
  // One decade of three: about a third of the draws in log space (a linear draw would give 0.9%).
  assert.ok(lowDecade > 850 && lowDecade < 1150, String(lowDecade));
});

test('encode and decode round-trip, rounding ints and clamping', () => {
  const params = { lr: 0.001, momentum: 0.9, batch: 64, layers: 2, opt: true };
  assert.deepEqual(decode(SPACE, encode(SPACE, params)), params);
  assert.equal(decodeValue(SPACE[0], 0), 1e-4);
  assert.equal(decodeValue(SPACE[0], 1), 0.1);
  assert.equal(decodeValue(SPACE[0], 7), 0.1, 'clamped');
  assert.equal(decodeValue(SPACE[2], -1), 16);
  assert.equal(decodeValue(SPACE[3], 0.5), 2);
  assert.equal(encodeValue(SPACE[4], 'adam'), 3 / 8);
  assert.equal(decodeValue({ name: 'x', kind: 'float', min: 2, max: 2 }, 0.3), 2, 'min == max');
  assert.equal(decodeValue({ name: 'x', kind: 'int', min: 0.5, max: 3.7 }, 0), 1, 'integer bounds inside the declared ones');
  const wide: ParamSpec = { name: 'w', kind: 'float', min: 1e-8, max: 1e8, log: true };
  assert.equal(decodeValue(wide, 0.5), 1);
  assert.equal(decodeValue(wide, 0.25), 0.0001, 'no float noise');
});

test('the grid: all choices, small int ranges whole, floats evenly spaced (in log where declared)', () => {
  assert.deepEqual(gridValues(SPACE[0], 4), [1e-4, 0.001, 0.01, 0.1]);
  assert.deepEqual(gridValues(SPACE[1], 3), [0, 0.495, 0.99]);
  assert.deepEqual(gridValues(SPACE[2], 5), [16, 32, 64, 128, 256]);
  assert.deepEqual(gridValues(SPACE[3]), [1, 2, 3]);
  assert.deepEqual(gridValues({ name: 'n', kind: 'int', min: 0, max: 100 }, 5), [0, 25, 50, 75, 100]);
  assert.deepEqual(gridValues({ name: 'x', kind: 'float', min: 1, max: 1 }), [1]);
  assert.equal(gridSize(SPACE), 5 * 5 * 5 * 3 * 4);
  const keys = new Set(Array.from({ length: gridSize(SPACE) }, (_, i) => paramsKey(gridPoint(SPACE, i))));
  assert.equal(keys.size, gridSize(SPACE));
});

test('paramsKey ignores the order parameters were written in and tells types apart', () => {
  assert.equal(paramsKey({ a: 1, b: 'x' }), paramsKey({ b: 'x', a: 1 }));
  assert.notEqual(paramsKey({ a: 1 }), paramsKey({ a: '1' }));
  assert.notEqual(paramsKey({ a: true }), paramsKey({ a: 'true' }));
});

test('argsFor: flag and value as two tokens, templates as one, numbers in shortest form', () => {
  const spec: ParamSpec[] = [
    { name: 'lr', kind: 'float', min: 1e-5, max: 1, log: true },
    { name: 'bs', kind: 'int', min: 1, max: 512, arg: '--batch-size={}' },
    { name: 'opt', kind: 'choice', values: ['adam'], arg: '-o' },
    { name: 'tiny', kind: 'float', min: 0, max: 1 },
  ];
  assert.deepEqual(argsFor(spec, { lr: 0.001, bs: 64, opt: 'adam', tiny: 1e-7 }), ['--lr', '0.001', '--batch-size=64', '-o', 'adam', '--tiny', '1e-7']);
  // A generated log-scale value is noise-free when it reaches the command line.
  assert.deepEqual(argsFor(spec.slice(0, 1), { lr: decodeValue(spec[0], 0.4) }), ['--lr', '0.001']);
  assert.equal(formatValue(0.1 + 0.2), '0.30000000000000004', 'a user value is never rounded');
  assert.equal(formatValue(-0), '0');
});

test('paramEnv: all as JSON and each as TRAINQ_PARAM_<NAME>', () => {
  assert.deepEqual(paramEnv({ lr: 0.001, 'warm-up.steps': 10, amp: true }), {
    TRAINQ_PARAMS: '{"lr":0.001,"warm-up.steps":10,"amp":true}',
    TRAINQ_PARAM_LR: '0.001',
    TRAINQ_PARAM_WARM_UP_STEPS: '10',
    TRAINQ_PARAM_AMP: 'true',
  });
});
