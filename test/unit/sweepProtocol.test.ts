import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkSweepFromWebview,
  checkSweepToWebview,
  MAX_CURVE,
  MAX_TEXT,
  MAX_TRIALS,
  parseSweepFromWebview,
  parseSweepToWebview,
  SWEEP_ACTION_KINDS,
  TRIAL_ACTIONS,
} from '../../src/shared/sweepProtocol';
import type { SweepView } from '../../src/shared/sweepProtocol';
import { sweepView } from '../../src/ui/sweepViewModel';
import { sweepRecord, sweepTrial } from './sweepViewFixtures';

function view(): SweepView {
  return sweepView(sweepRecord());
}

/** Hostile edits write any value anywhere, which no precise type allows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** The view with one change made by `edit` (on a deep copy). */
function edited(edit: (v: Loose) => void): unknown {
  const copy = structuredClone(view()) as Loose;
  edit(copy);
  return { type: 'update', sweep: copy };
}

function refused(message: unknown, pattern?: RegExp): void {
  const checked = checkSweepToWebview(message);
  if (checked.ok) {
    assert.fail(`accepted ${JSON.stringify(message)?.slice(0, 200)}`);
  }
  if (pattern) {
    assert.match(checked.error, pattern);
  }
}

test('valid messages pass both ways', () => {
  assert.ok(parseSweepToWebview({ type: 'snapshot', sweep: view() }));
  assert.ok(parseSweepToWebview({ type: 'update', sweep: view() }));
  assert.ok(parseSweepToWebview({ type: 'update', sweep: { ...view(), trials: [], bestTrial: null } }), 'an empty sweep');
  assert.deepEqual(parseSweepFromWebview({ type: 'ready' }), { type: 'ready' });
  for (const kind of SWEEP_ACTION_KINDS) {
    const message = TRIAL_ACTIONS.includes(kind) ? { type: 'action', kind, trial: 3 } : { type: 'action', kind };
    assert.deepEqual(parseSweepFromWebview(message), message, kind);
  }
});

test('non-finite and out-of-range numbers are refused', () => {
  refused(edited((v) => (v.trials[0].curve.value[0] = NaN)), /trials\[0\]\.curve\.value\[0\]/);
  refused(edited((v) => (v.trials[0].curve.step[1] = Infinity)));
  refused(edited((v) => (v.trials[0].best = -Infinity)), /best/);
  refused(edited((v) => (v.trials[0].params.lr = NaN)), /params\.lr/);
  refused(edited((v) => (v.params[0].min = NaN)));
  refused(edited((v) => (v.trials[0].trial = 1.5)));
  refused(edited((v) => (v.trials[0].trial = -1)));
  assert.equal(parseSweepFromWebview({ type: 'action', kind: 'stopTrial', trial: NaN }), undefined);
  assert.equal(parseSweepFromWebview({ type: 'action', kind: 'stopTrial', trial: -2 }), undefined);
  assert.equal(parseSweepFromWebview({ type: 'action', kind: 'openLog', trial: '3' }), undefined);
});

test('huge strings and arrays are refused, without reading a huge array', () => {
  refused(edited((v) => (v.name = 'x'.repeat(MAX_TEXT + 1))), /at most 4096 characters/);
  assert.ok(checkSweepToWebview(edited((v) => (v.name = 'x'.repeat(MAX_TEXT)))).ok, 'the limit itself is fine');
  refused(
    edited((v) => {
      v.trials[0].curve = { step: Array.from({ length: MAX_CURVE + 1 }, (_, i) => i), value: Array.from({ length: MAX_CURVE + 1 }, () => 0.5) };
    }),
    /at most 1000 items/,
  );
  refused(edited((v) => (v.trials[0].curve.step = [1])), /differ in length/);
  // A sparse array of ten million: refused by its length, at once.
  const started = performance.now();
  refused(edited((v) => (v.trials = new Array(10_000_000))), /at most 10000 items/);
  assert.ok(performance.now() - started < 500, 'the length is checked before the items');
  const many = sweepView(sweepRecord({ trials: Array.from({ length: MAX_TRIALS }, (_, i) => sweepTrial(i + 1)) }));
  assert.ok(checkSweepToWebview({ type: 'snapshot', sweep: many }).ok, `${MAX_TRIALS} trials are fine`);
  refused(edited((v) => (v.trials[0].params = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i])))), /at most 100 parameters/);
  refused(edited((v) => (v.trials[0].params.optimizer = 'y'.repeat(MAX_TEXT + 1))));
});

test('wrong kinds and shapes are refused', () => {
  refused({ type: 'snapshot' });
  refused({ type: 'patch', sweep: view() }, /type/);
  refused(null);
  refused([view()]);
  refused(edited((v) => (v.status = 'exploded')), /status/);
  refused(edited((v) => (v.goal = 'maximise')), /goal/);
  refused(edited((v) => (v.trials[1].state = 'zombie')), /state/);
  refused(edited((v) => (v.params[1].kind = 'enum')), /kind/);
  refused(edited((v) => (v.params[1].values = [])), /no values/);
  refused(edited((v) => (v.params[0].min = 1) && (v.params[0].max = 0)), /min ≤ max/);
  refused(edited((v) => (v.params[0].min = 0)), /log parameter lr needs min > 0/);
  refused(edited((v) => (v.trials[0].params.lr = { nested: 1 })));
  refused(edited((v) => (v.trials[0].params = [1, 2])));
  refused(edited((v) => (v.trials[1].trial = 1)), /trial 1 appears twice/);
  refused(edited((v) => (v.bestTrial = 99)), /best trial 99/);
  refused(edited((v) => (v.trials = { length: 1, 0: v.trials[0] })));
  for (const bad of [
    { type: 'action', kind: 'rm -rf' },
    { type: 'action', kind: 'stopTrial' },
    { type: 'action', kind: 'queueBest', trial: null },
    { type: 'action' },
    { type: 'refresh' },
    { kind: 'pause' },
    'ready',
    undefined,
  ]) {
    assert.equal(parseSweepFromWebview(bad), undefined, JSON.stringify(bad));
  }
  const checked = checkSweepFromWebview({ type: 'action', kind: 'openLog' });
  assert.ok(!checked.ok && /openLog needs a trial/.test(checked.error));
});

test('extra fields are dropped, as the dashboard protocol drops them', () => {
  const withExtra = edited((v) => {
    v.extra = 'ignored';
    v.trials[0].secret = 1;
    v.params[0].arg = '--lr';
  }) as { sweep: Record<string, unknown> };
  const parsed = parseSweepToWebview({ ...withExtra, more: true });
  assert.ok(parsed);
  assert.equal('extra' in parsed.sweep, false);
  assert.equal('secret' in parsed.sweep.trials[0], false);
  assert.equal('arg' in parsed.sweep.params[0], false);
  assert.equal('more' in parsed, false);
  assert.deepEqual(parseSweepFromWebview({ type: 'action', kind: 'pause', extra: 1 }), { type: 'action', kind: 'pause' });
});

test('prototype pollution keys are refused and never reach a prototype', () => {
  const hostile = JSON.parse(
    `{"type":"update","sweep":${JSON.stringify(view()).replace('"params":{"lr"', '"params":{"__proto__":{"polluted":true},"lr"')}}`,
  );
  assert.ok(Object.prototype.hasOwnProperty.call(hostile.sweep.trials[0].params, '__proto__'), 'the test sends an own __proto__ key');
  refused(hostile, /"__proto__" is not allowed/);
  for (const key of ['constructor', 'prototype', 'toString']) {
    refused(edited((v) => (v.trials[0].params[key] = 1)), /is not allowed/);
    refused(edited((v) => (v.params[0].name = key)), /is not allowed/);
  }
  // Top-level and action messages: an own __proto__ is just an unknown field, dropped.
  const action = JSON.parse('{"type":"action","kind":"pause","__proto__":{"polluted":true}}');
  assert.deepEqual(parseSweepFromWebview(action), { type: 'action', kind: 'pause' });
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  const parsed = parseSweepToWebview({ type: 'update', sweep: view() });
  assert.equal(Object.getPrototypeOf(parsed?.sweep.trials[0].params), Object.prototype);
});
