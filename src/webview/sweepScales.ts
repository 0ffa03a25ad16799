/**
 * The sweep view's axes, as plain math (no DOM, so unit tests run it in Node): linear and log scales
 * with readable ticks, and evenly spaced positions for a choice parameter's values. Each maps a data
 * value to a pixel between range[0] and range[1].
 */
import { formatValue } from './format';

export interface Tick {
  at: number;
  label: string;
}

export interface Scale {
  /** Data value → pixel. */
  map(value: number): number;
  ticks: Tick[];
}

/** 1, 2 or 5 × a power of ten: the step that gives about `count` ticks over the span. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** [min, max] widened when it is empty or a single value (a flat curve still needs a scale). */
export function extent(values: Iterable<number>): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  if (min > max) {
    return undefined;
  }
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - pad, max + pad];
  }
  return [min, max];
}

export function linearScale(domain: [number, number], range: [number, number], tickCount = 5): Scale {
  const [d0, d1] = domain;
  const span = d1 - d0 || 1;
  const map = (v: number): number => range[0] + ((v - d0) / span) * (range[1] - range[0]);
  const step = niceStep(span, tickCount);
  const ticks: Tick[] = [];
  // Rounded to the step's precision, so that 0.30000000000000004 reads 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = Math.ceil(d0 / step) * step; v <= d1 + step * 1e-9 && ticks.length < 50; v += step) {
    const at = Number(v.toFixed(Math.min(digits, 20)));
    ticks.push({ at: map(at), label: formatValue(at) });
  }
  return { map, ticks };
}

/** A log10 scale (domain > 0); ticks at powers of ten, or at its ends when it spans less than one. */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const l0 = Math.log10(Math.max(domain[0], Number.MIN_VALUE));
  const l1 = Math.log10(Math.max(domain[1], Number.MIN_VALUE));
  const span = l1 - l0 || 1;
  const map = (v: number): number => range[0] + ((Math.log10(Math.max(v, Number.MIN_VALUE)) - l0) / span) * (range[1] - range[0]);
  const ticks: Tick[] = [];
  const first = Math.ceil(l0 - 1e-9);
  const last = Math.floor(l1 + 1e-9);
  // Every power for up to 8 decades, then every second or third, so labels do not overlap.
  const every = Math.max(1, Math.ceil((last - first + 1) / 8));
  for (let p = first; p <= last; p += every) {
    ticks.push({ at: map(10 ** p), label: formatValue(10 ** p) });
  }
  if (ticks.length < 2) {
    return { map, ticks: [domain[0], domain[1]].map((v) => ({ at: map(v), label: formatValue(v) })) };
  }
  return { map, ticks };
}

/** Evenly spaced positions for categories (a choice parameter's values), each in the middle of its band. */
export function bandScale(labels: readonly string[], range: [number, number]): Scale & { index(label: string): number } {
  const n = Math.max(1, labels.length);
  const width = (range[1] - range[0]) / n;
  const map = (i: number): number => range[0] + width * (i + 0.5);
  const positions = new Map(labels.map((label, i) => [label, i]));
  return {
    map,
    index: (label) => positions.get(label) ?? -1,
    ticks: labels.map((label, i) => ({ at: map(i), label: label.length > 12 ? `${label.slice(0, 11)}…` : label })),
  };
}
