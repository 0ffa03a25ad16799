import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '../../src/shared/dashboardProtocol';
import { alignColumns, appendToWindow, emptySeries, lastPoints } from '../../src/shared/seriesWindow';

/** A series whose times are 1000 × index + 1000, with the given steps and values. */
function series(steps: number[], values: number[], t0 = 1_000): Series {
  return { t: steps.map((_, i) => t0 + 1_000 * i), step: steps, v: values };
}

test('appendToWindow appends in place and keeps only the newest points', () => {
  const target = series([1, 2, 3], [10, 20, 30]);
  const columns = { t: target.t, step: target.step, v: target.v };
  appendToWindow(target, series([4, 5], [40, 50], 4_000), 4);
  assert.deepEqual(target.step, [2, 3, 4, 5]);
  assert.deepEqual(target.v, [20, 30, 40, 50]);
  assert.deepEqual(target.t, [2_000, 3_000, 4_000, 5_000]);
  assert.equal(target.t, columns.t, 'the same arrays, not copies');
});

test('appendToWindow keeps the tail of an append larger than the window', () => {
  const target = series([1], [10]);
  appendToWindow(target, series([2, 3, 4, 5, 6], [20, 30, 40, 50, 60]), 3);
  assert.deepEqual(target.step, [4, 5, 6]);
  assert.deepEqual(target.v, [40, 50, 60]);
});

test('appendToWindow with nothing to append or a zero window', () => {
  const target = series([1, 2], [10, 20]);
  appendToWindow(target, emptySeries(), 5);
  assert.deepEqual(target.v, [10, 20]);
  appendToWindow(target, series([3], [30]), 0);
  assert.deepEqual(target, emptySeries());
});

test('lastPoints copies the newest points', () => {
  const s = series([1, 2, 3], [10, 20, 30]);
  const last = lastPoints(s, 2);
  assert.deepEqual(last.v, [20, 30]);
  assert.deepEqual(last.step, [2, 3]);
  last.v.push(99);
  assert.deepEqual(s.v, [10, 20, 30], 'the source is untouched');
  assert.deepEqual(lastPoints(s, 10).v, [10, 20, 30]);
});

test('alignColumns shares the arrays when the lines have the same x values in order', () => {
  const reward = series([1, 2, 3], [1, -1, 0.5]);
  const avg = series([1, 2, 3], [1, 0, 0.17]);
  const time = alignColumns([reward, avg], 'time');
  assert.equal(time.x, reward.t);
  assert.equal(time.ys[0], reward.v);
  assert.equal(time.ys[1], avg.v);
  assert.equal(alignColumns([reward, avg], 'step').x, reward.step);
});

test('alignColumns merges lines with different x values, null where a line has no point', () => {
  const a: Series = { t: [1, 3, 5], step: [1, 3, 5], v: [10, 30, 50] };
  const b: Series = { t: [2, 3, 6], step: [2, 3, 6], v: [200, 300, 600] };
  assert.deepEqual(alignColumns([a, b], 'time'), {
    x: [1, 2, 3, 5, 6],
    ys: [
      [10, null, 30, 50, null],
      [null, 200, 300, null, 600],
    ],
  });
});

test('alignColumns sorts a step axis that went back (agent reset) and keeps repeated steps as rows', () => {
  const s = series([5, 5, 7, 0, 1], [1, 2, 3, 4, 5]);
  assert.deepEqual(alignColumns([s], 'step'), { x: [0, 1, 5, 5, 7], ys: [[4, 5, 1, 2, 3]] });
});

test('alignColumns of repeated steps on two lines pairs them in order', () => {
  const a = series([2, 2, 3], [1, 2, 3]);
  const b = series([2, 3, 3], [10, 30, 31]);
  assert.deepEqual(alignColumns([a, b], 'step'), {
    x: [2, 2, 3, 3],
    ys: [
      [1, 2, 3, null],
      [10, null, 30, 31],
    ],
  });
});

test('alignColumns of no series or empty series', () => {
  assert.deepEqual(alignColumns([], 'time'), { x: [], ys: [] });
  assert.deepEqual(alignColumns([emptySeries(), emptySeries()], 'time'), { x: [], ys: [[], []] });
});
