/**
 * The geometry of a sweep's search space. Every strategy works in the unit cube [0,1]^d, one axis per
 * parameter (log-scaled where the spec says so), and converts at the edges: `encode` a trial's
 * parameters to learn from it, `decode` a point to propose it. Keeping the maths in one space means a
 * step of 0.1 means "a tenth of the range" for a learning rate and for a batch size alike.
 */
import type { ParamSpec, ParamValue, Params } from './sweepTypes';
import type { Rng } from './seededRandom';

export const DEFAULT_GRID_POINTS = 5;

/**
 * Removes the noise arithmetic leaves in generated numbers (exp(log(0.001)) is 0.0010000000000000002)
 * by keeping 12 significant digits, far more than any hyper-parameter needs. Only numbers a strategy
 * generates go through here; a user's own values are never rounded.
 */
export function cleanNumber(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x === 0 ? 0 : x;
  return Number(x.toPrecision(12));
}

/** A value as the script receives it: JavaScript's shortest round-trip form for numbers (0.001, 1e-7). */
export function formatValue(value: ParamValue): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  return String(value);
}

/** Bounds in order even when a spec has them swapped; log only where it is defined. */
function rangeOf(spec: ParamSpec & { kind: 'int' | 'float' }): { lo: number; hi: number; log: boolean } {
  let lo = Math.min(spec.min, spec.max);
  let hi = Math.max(spec.min, spec.max);
  if (spec.kind === 'int') {
    // Integer bounds, so rounding can never leave the range (an int range of 0.5..3.7 holds 1, 2, 3).
    lo = Math.ceil(lo);
    hi = Math.max(lo, Math.floor(hi));
  }
  return { lo, hi, log: spec.log === true && lo > 0 };
}

const clamp01 = (u: number): number => (Number.isFinite(u) ? Math.min(1, Math.max(0, u)) : 0.5);

/** Where a value lies along its parameter's axis, in [0, 1]. */
export function encodeValue(spec: ParamSpec, value: ParamValue | undefined): number {
  if (spec.kind === 'choice') {
    const k = spec.values.length;
    const i = spec.values.findIndex((v) => v === value);
    return k === 0 ? 0.5 : (Math.max(0, i) + 0.5) / k;
  }
  const x = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(x)) return 0.5;
  const { lo, hi, log } = rangeOf(spec);
  if (hi === lo) return 0.5;
  if (spec.kind === 'int') {
    // Integers own the interval [v − ½, v + ½), so each is equally likely under a uniform u.
    if (log) return clamp01((Math.log(x) - Math.log(lo - 0.5)) / (Math.log(hi + 0.5) - Math.log(lo - 0.5)));
    return clamp01((x - lo + 0.5) / (hi - lo + 1));
  }
  if (log) return clamp01((Math.log(x) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)));
  return clamp01((x - lo) / (hi - lo));
}

/** The value at position u of its parameter's axis: rounded for ints, clamped to the bounds, noise-free. */
export function decodeValue(spec: ParamSpec, u: number): ParamValue {
  const t = clamp01(u);
  if (spec.kind === 'choice') {
    const k = spec.values.length;
    return spec.values[Math.min(k - 1, Math.floor(t * k))];
  }
  const { lo, hi, log } = rangeOf(spec);
  if (hi === lo) return lo;
  if (spec.kind === 'int') {
    const x = log
      ? Math.exp(Math.log(lo - 0.5) + t * (Math.log(hi + 0.5) - Math.log(lo - 0.5)))
      : lo - 0.5 + t * (hi - lo + 1);
    return Math.min(hi, Math.max(lo, Math.round(x)));
  }
  const x = log ? Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo))) : lo + t * (hi - lo);
  return Math.min(hi, Math.max(lo, cleanNumber(x)));
}

/** A choice with no values can hold nothing; the definition parser rejects it, the strategies skip it. */
export function usableParams(spec: readonly ParamSpec[]): ParamSpec[] {
  return spec.filter((p) => p.kind !== 'choice' || p.values.length > 0);
}

export function encode(spec: readonly ParamSpec[], params: Params): number[] {
  return spec.map((p) => encodeValue(p, params[p.name]));
}

export function decode(spec: readonly ParamSpec[], point: readonly number[]): Params {
  const params: Params = {};
  spec.forEach((p, i) => (params[p.name] = decodeValue(p, point[i])));
  return params;
}

/** A uniform draw from the space: uniform in log space where the parameter is log-scaled. */
export function sampleUniform(spec: readonly ParamSpec[], rng: Rng): Params {
  return decode(spec, spec.map(() => rng.next()));
}

/** Values a grid visits along one parameter. */
export function gridValues(p: ParamSpec, gridPoints = DEFAULT_GRID_POINTS): ParamValue[] {
  if (p.kind === 'choice') return [...p.values];
  const n = Math.max(1, Math.floor(gridPoints));
  const { lo, hi, log } = rangeOf(p);
  if (p.kind === 'int' && hi - lo + 1 <= n) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  if (hi === lo) return [lo];
  const at = (i: number): number => {
    const f = n === 1 ? 0.5 : i / (n - 1);
    if (i === 0 && n > 1) return lo; // the ends exactly, never exp(log(lo)) with its noise
    if (i === n - 1 && n > 1) return hi;
    return log ? Math.exp(Math.log(lo) + f * (Math.log(hi) - Math.log(lo))) : lo + f * (hi - lo);
  };
  const values = Array.from({ length: n }, (_, i) => (p.kind === 'int' ? Math.round(at(i)) : cleanNumber(at(i))));
  return [...new Set(values)];
}

/** Number of points in the full grid (may be huge; the grid is walked by index, never materialised). */
export function gridSize(spec: readonly ParamSpec[], gridPoints = DEFAULT_GRID_POINTS): number {
  return spec.reduce((n, p) => n * gridValues(p, gridPoints).length, 1);
}

/** The grid point with this index, the last parameter varying fastest (like nested loops in the spec's order). */
export function gridPoint(spec: readonly ParamSpec[], index: number, gridPoints = DEFAULT_GRID_POINTS): Params {
  const axes = spec.map((p) => gridValues(p, gridPoints));
  const params: Params = {};
  let rest = index;
  for (let i = spec.length - 1; i >= 0; i--) {
    const k = axes[i].length;
    params[spec[i].name] = axes[i][rest % k];
    rest = Math.floor(rest / k);
  }
  return params;
}

/** The same parameters always give the same key, whatever order they were written in. */
export function paramsKey(params: Params): string {
  const entries = Object.keys(params)
    .sort()
    .map((name) => {
      const v = params[name];
      return [name, typeof v === 'number' ? cleanNumber(v) : v];
    });
  return JSON.stringify(entries);
}

/** Command-line arguments for a trial: `--lr 0.001` as two tokens, or `--lr={}` as one. */
export function argsFor(spec: readonly ParamSpec[], params: Params): string[] {
  const args: string[] = [];
  for (const p of spec) {
    if (!(p.name in params)) continue;
    const value = formatValue(params[p.name]);
    const arg = p.arg ?? `--${p.name}`;
    if (arg.includes('{}')) args.push(arg.split('{}').join(value));
    else args.push(arg, value);
  }
  return args;
}

/** Environment variable name for a parameter: TRAINQ_PARAM_ plus the name upper-cased, other characters as `_`. */
export function paramEnvName(name: string): string {
  return `TRAINQ_PARAM_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** Environment for a trial: all parameters as JSON, and each on its own. */
export function paramEnv(params: Params): Record<string, string> {
  const env: Record<string, string> = { TRAINQ_PARAMS: JSON.stringify(params) };
  for (const [name, value] of Object.entries(params)) env[paramEnvName(name)] = formatValue(value);
  return env;
}

/** A value for an explanation: three significant digits are enough to tell trials apart in words. */
export function shortValue(value: ParamValue): string {
  if (typeof value !== 'number' || Number.isInteger(value)) return formatValue(value);
  return String(Number(value.toPrecision(3)));
}

/** `lr=0.0032, momentum=0.91` */
export function describeParams(params: Params): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${shortValue(value)}`)
    .join(', ');
}
