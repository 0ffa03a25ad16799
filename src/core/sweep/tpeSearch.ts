/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), as Optuna implements it. After a few random
 * trials, the trials are split into the best γ(n) ("good") and the rest ("bad"); each set becomes a
 * Parzen density over the unit cube (a truncated Gaussian per trial for numbers, a smoothed one-hot for
 * choices, plus a broad prior component so nothing gets zero density). Candidates are drawn from the
 * good density l(x) and the one maximising l(x)/g(x) is proposed: Bergstra shows this ratio orders
 * points as expected improvement does.
 *
 * Parallel trials: trials still queued or running (no report yet) go into the bad set ("constant
 * liar", pessimistic). That lowers l/g around them, so proposals made while they run spread out
 * instead of piling onto the same promising spot.
 */
import type { Goal, ParamSpec, Params, Proposal, SearchStrategy, TrialRecord } from './sweepTypes';
import { decode, describeParams, encode, paramsKey, usableParams } from './paramSpace';
import { rngFor, type Rng } from './seededRandom';
import { rankTrials } from './trialScore';
import { freshUniform, seenKeys } from './simpleSearch';

export interface TpeOptions {
  /** Random trials before the model is used. */
  startup?: number;
  /** Draws from l(x) per proposal. */
  candidates?: number;
  /** Joint kernels (one trial's values move together) rather than one density per parameter. */
  multivariate?: boolean;
  /** Size of the good set for n ranked trials. */
  gamma?: (n: number) => number;
}

/** Optuna's default: the best 10%, at least one, at most 25. */
export const optunaGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

export function defaultStartup(dims: number): number {
  return Math.max(5, 2 * dims);
}

/** Φ, from the Abramowitz–Stegun erf (error < 1.5e-7, plenty for a density ratio). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

interface Kernel {
  /** Per dimension: the centre in [0,1] (numbers) or the category index (choices). */
  at: number[];
  /** Per numeric dimension: the bandwidth, and log of the mass of the Gaussian inside [0,1]. */
  sigma: number[];
  logMass: number[];
}

/** A Parzen density over the unit cube, built from one set of trials plus the prior. */
class ParzenDensity {
  private readonly kernels: Kernel[] = [];

  constructor(
    private readonly spec: readonly ParamSpec[],
    points: readonly number[][],
    private readonly multivariate: boolean,
  ) {
    const d = spec.length;
    const n = points.length;
    // Scott's rule in the unit cube, as Optuna's multivariate TPE: shrinks as trials accumulate.
    const scott = 0.2 * Math.pow(Math.max(n, 1), -1 / (d + 4));
    const prior = spec.map((p) => (p.kind === 'choice' ? -1 : 0.5));
    for (const point of [...points, prior]) {
      const isPrior = point === prior;
      const at = spec.map((p, i) => (p.kind === 'choice' ? (isPrior ? -1 : Math.min(p.values.length - 1, Math.floor(point[i] * p.values.length))) : point[i]));
      const sigma = spec.map((p, i) => (isPrior ? 1 : this.bandwidth(points, i, point[i], scott)));
      const logMass = spec.map((p, i) => Math.log(Math.max(1e-12, normalCdf((1 - at[i]) / sigma[i]) - normalCdf(-at[i] / sigma[i]))));
      this.kernels.push({ at, sigma, logMass });
    }
  }

  /** Multivariate uses Scott's width; independent uses Optuna's neighbour gaps along the axis. */
  private bandwidth(points: readonly number[][], dim: number, x: number, scott: number): number {
    const floor = 1 / Math.min(100, points.length + 1);
    if (this.multivariate) return Math.max(scott, 0.01);
    const axis = [0, 1, ...points.map((p) => p[dim])].sort((a, b) => a - b);
    const i = axis.indexOf(x);
    const gap = Math.max(x - (axis[i - 1] ?? 0), (axis[i + 1] ?? 1) - x);
    return Math.min(1, Math.max(floor, gap));
  }

  /** log density of kernel k along dimension i at x. */
  private logKernel(k: Kernel, i: number, x: number): number {
    const p = this.spec[i];
    if (p.kind === 'choice') {
      const m = p.values.length;
      const c = Math.min(m - 1, Math.floor(x * m));
      if (k.at[i] < 0) return -Math.log(m);
      // Smoothed one-hot: a trial makes its own value likelier without ruling out the others.
      const eps = 0.25;
      return Math.log((c === k.at[i] ? 1 - eps : 0) + eps / m);
    }
    const z = (x - k.at[i]) / k.sigma[i];
    return -0.5 * z * z - LOG_SQRT_2PI - Math.log(k.sigma[i]) - k.logMass[i];
  }

  logPdf(x: readonly number[]): number {
    const K = this.kernels.length;
    if (this.multivariate) {
      return logSumExp(this.kernels.map((k) => x.reduce((s, xi, i) => s + this.logKernel(k, i, xi), 0))) - Math.log(K);
    }
    let total = 0;
    for (let i = 0; i < x.length; i++) total += logSumExp(this.kernels.map((k) => this.logKernel(k, i, x[i]))) - Math.log(K);
    return total;
  }

  sample(rng: Rng): number[] {
    let k = rng.pick(this.kernels);
    return this.spec.map((p, i) => {
      if (!this.multivariate) k = rng.pick(this.kernels);
      if (p.kind === 'choice') {
        const m = p.values.length;
        const c = k.at[i] >= 0 && rng.next() >= 0.25 ? k.at[i] : rng.int(m);
        return (c + 0.5) / m;
      }
      for (let tries = 0; tries < 20; tries++) {
        const x = k.at[i] + k.sigma[i] * rng.normal();
        if (x >= 0 && x <= 1) return x;
      }
      return Math.min(1, Math.max(0, k.at[i]));
    });
  }
}

function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

export interface TpeSuggestion {
  params: Params;
  /** l(x)/g(x) of the chosen point. */
  ratio: number;
  good: number;
  ranked: number;
  pending: number;
  candidates: number;
}

/** The model's pick, or undefined while there are too few reported trials for a model. */
export function tpeSuggest(
  params: readonly ParamSpec[],
  history: readonly TrialRecord[],
  goal: Goal,
  seed: number,
  opts: TpeOptions = {},
): TpeSuggestion | undefined {
  const spec = usableParams(params);
  const ranked = rankTrials(history, goal);
  const startup = opts.startup ?? defaultStartup(spec.length);
  if (ranked.length < Math.max(2, startup) || spec.length === 0) return undefined;
  const nGood = Math.max(1, Math.min(ranked.length - 1, (opts.gamma ?? optunaGamma)(ranked.length)));
  const good = ranked.slice(0, nGood).map((r) => encode(spec, r.trial.params));
  const reported = new Set(ranked.map((r) => r.trial));
  const pending = history.filter((t) => !reported.has(t) && (t.state === 'queued' || t.state === 'running'));
  // Failed or cancelled without a report say little about their point; running ones are the liar.
  const bad = [...ranked.slice(nGood).map((r) => r.trial), ...pending].map((t) => encode(spec, t.params));
  const multivariate = opts.multivariate ?? true;
  const l = new ParzenDensity(spec, good, multivariate);
  const g = new ParzenDensity(spec, bad, multivariate);
  const rng = rngFor(seed, history.length, 'tpe');
  const seen = seenKeys(history);
  const draws = opts.candidates ?? 24;
  let best: { params: Params; score: number } | undefined;
  for (let c = 0; c < draws; c++) {
    const x = l.sample(rng);
    const candidate = decode(spec, x);
    if (seen.has(paramsKey(candidate))) continue;
    // Score the decoded point (ints rounded, choices snapped), the one that will actually run.
    const u = encode(spec, candidate);
    const score = l.logPdf(u) - g.logPdf(u);
    if (!best || score > best.score) best = { params: candidate, score };
  }
  if (!best) return undefined;
  return { params: best.params, ratio: Math.exp(best.score), good: nGood, ranked: ranked.length, pending: pending.length, candidates: draws };
}

export function explainTpe(s: TpeSuggestion): string {
  const liar = s.pending > 0 ? `; ${s.pending} running trial${s.pending === 1 ? '' : 's'} counted among the rest so parallel trials spread out` : '';
  const ratio = s.ratio >= 100 ? s.ratio.toExponential(1) : s.ratio.toPrecision(2);
  return `TPE: ${describeParams(s.params)} is ${ratio}× likelier among the best ${s.good} of ${s.ranked} trials than among the rest (best of ${s.candidates} draws${liar}).`;
}

export function createTpeSearch(params: readonly ParamSpec[], goal: Goal, seed: number, opts: TpeOptions = {}): SearchStrategy {
  const spec = usableParams(params);
  const startup = opts.startup ?? defaultStartup(spec.length);
  return {
    name: 'adaptive',
    propose(history): Proposal | undefined {
      const s = tpeSuggest(spec, history, goal, seed, opts);
      if (s) return { params: s.params, why: explainTpe(s) };
      const drawn = freshUniform(spec, history, seed, 'tpe-startup');
      if (!drawn) return undefined;
      return { params: drawn, why: `Random start ${Math.min(history.length + 1, startup)} of ${startup}: TPE needs ${startup} reported trials before it models which values do well.` };
    },
  };
}
