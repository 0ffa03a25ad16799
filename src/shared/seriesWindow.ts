/**
 * The agent dashboard's chart data as the webview keeps it: a bounded window per series, and the
 * aligned columns that uPlot draws (one x column shared by every line of a chart). Pure, without DOM
 * types, so that it runs in the unit tests as well as in the page.
 */
import type { Series } from './dashboardProtocol';

/** The x axis of the dashboard's charts: wall-clock time or training step. */
export type XAxisMode = 'time' | 'step';

/** uPlot's input: the x column, then one column per line, null where that line has no point at that x. */
export interface AlignedColumns {
  x: number[];
  ys: Array<Array<number | null>>;
}

export function emptySeries(): Series {
  return { t: [], step: [], v: [] };
}

/** A copy of the last `limit` points of a series (the whole series when it is shorter). */
export function lastPoints(series: Series, limit: number): Series {
  const from = Math.max(0, series.t.length - Math.max(0, Math.floor(limit)));
  return { t: series.t.slice(from), step: series.step.slice(from), v: series.v.slice(from) };
}

/**
 * Appends `append` to `target` in place and drops the oldest points beyond `limit`. In place, because
 * an update adds a handful of points to windows of up to ~10,000 and copying each window four times a
 * second would be most of an update's cost.
 */
export function appendToWindow(target: Series, append: Series, limit: number): void {
  const cap = Math.max(0, Math.floor(limit));
  // When one update brings more than the window holds, only its tail can survive.
  const from = Math.max(0, append.t.length - cap);
  for (let i = from; i < append.t.length; i++) {
    target.t.push(append.t[i]);
    target.step.push(append.step[i]);
    target.v.push(append.v[i]);
  }
  const excess = target.t.length - cap;
  if (excess > 0) {
    target.t.splice(0, excess);
    target.step.splice(0, excess);
    target.v.splice(0, excess);
  }
}

export function xColumn(series: Series, mode: XAxisMode): number[] {
  return mode === 'time' ? series.t : series.step;
}

function isNonDecreasing(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) {
    if (values[i] < values[i - 1]) {
      return false;
    }
  }
  return true;
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) {
    return true;
  }
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** Indices of `keys` in ascending key order, ties in their original order (the step axis repeats steps). */
function sortedOrder(keys: readonly number[]): number[] {
  const order = keys.map((_, i) => i);
  if (!isNonDecreasing(keys)) {
    order.sort((a, b) => keys[a] - keys[b] || a - b);
  }
  return order;
}

/**
 * Joins several series on the chosen x axis. The usual case (the lines share their x values, already in
 * order) returns the series' own arrays without copying. Otherwise it merges them: each row takes at most
 * one point of each line, the others get null (uPlot bridges them with spanGaps). Steps repeat when the
 * agent decides without training and restart after a reset, so the step axis may need sorting.
 */
export function alignColumns(series: readonly Series[], mode: XAxisMode): AlignedColumns {
  const keys = series.map((s) => xColumn(s, mode));
  if (keys.length === 0) {
    return { x: [], ys: [] };
  }
  if (keys.every((k) => sameValues(k, keys[0])) && isNonDecreasing(keys[0])) {
    return { x: keys[0], ys: series.map((s) => s.v) };
  }
  const orders = keys.map(sortedOrder);
  const heads = keys.map(() => 0);
  const x: number[] = [];
  const ys: Array<Array<number | null>> = series.map(() => []);
  for (;;) {
    let next = Infinity;
    for (let s = 0; s < keys.length; s++) {
      if (heads[s] < orders[s].length) {
        next = Math.min(next, keys[s][orders[s][heads[s]]]);
      }
    }
    if (next === Infinity) {
      break;
    }
    x.push(next);
    for (let s = 0; s < keys.length; s++) {
      const at = orders[s][heads[s]];
      if (heads[s] < orders[s].length && keys[s][at] === next) {
        ys[s].push(series[s].v[at]);
        heads[s]++;
      } else {
        ys[s].push(null);
      }
    }
  }
  return { x, ys };
}
