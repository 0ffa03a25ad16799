/**
 * The dashboard's view model: turns the agent's stats and the job manager's hosts and jobs into the
 * protocol's plain views, and batches live changes so the webview gets at most one update per
 * interval. No `vscode` import, so all of it is unit-tested; dashboardPanel.ts only moves messages.
 *
 * Long runs: the extension keeps up to `historyLength` points per chart (AgentStats' rings); a
 * snapshot sends each chart down-sampled to at most `maxPoints` (the most and least of each bucket,
 * so spikes survive), since a chart a few hundred pixels wide cannot show more.
 */
import type { AgentFigures, AgentStats, DecisionRecord, SeriesName, SeriesPoint } from '../agent/agentStats';
import { SERIES_NAMES } from '../agent/agentStats';
import type { Job } from '../core/job';
import type { HostStatus } from '../core/host';
import type { HostRef, PredictionRecord, RuntimeModel } from '../core/runtimeModel';
import type { Charts, DecisionView, HeaderView, HostView, PredictionsView, Series } from '../shared/dashboardProtocol';

export const RECENT_DECISIONS = 50;
/** Predictions per point of the error chart: enough to smooth one odd job, few enough to show a change within a day's jobs. */
export const ERROR_WINDOW = 20;
export const RECENT_PREDICTIONS = 20;
export const UPDATE_INTERVAL_MS = 250;

export function headerView(figures: AgentFigures, placement: string): HeaderView {
  return {
    placement,
    backend: figures.backend,
    learning: figures.learning ?? false,
    trainSteps: figures.trainSteps,
    epsilon: figures.epsilon,
    replaySize: figures.replaySize,
    decisions: figures.decisions,
    ...(figures.savedAtMs !== undefined ? { savedAtMs: figures.savedAtMs } : {}),
  };
}

export function decisionView(d: DecisionRecord): DecisionView {
  return {
    seq: d.seq ?? 0,
    atMs: d.atMs,
    jobId: d.jobId,
    jobName: d.jobName,
    priority: d.priority ?? '',
    priorityPath: d.priorityPath ?? '',
    candidates: d.candidates.map((c) => ({ host: c.host ?? null, q: Number.isFinite(c.q) ? c.q : 0 })),
    infeasible: d.infeasible ?? [],
    chosen: d.chosen ?? null,
    explored: d.explored,
    ...(d.outcome ? { outcome: { ...d.outcome } } : {}),
  };
}

/** The newest decisions first. */
export function recentDecisions(stats: AgentStats, n = RECENT_DECISIONS): DecisionView[] {
  return stats.decisions.toArray().slice(-n).reverse().map(decisionView);
}

function median(values: number[]): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Per host: GPUs held (by TrainQ's running jobs, other programs, or what an ended job left), mean utilisation, running
 * jobs, and the observed speed factor: the median of estimate ÷ actual run time over the host's
 * succeeded jobs (above 1: jobs finish sooner than their users expect there).
 */
export function hostViews(statuses: readonly HostStatus[], speeds: ReadonlyMap<string, number>, jobs: readonly Job[]): HostView[] {
  return statuses.map((s) => {
    const running = jobs.filter((j) => j.state === 'running' && j.host === s.name);
    const held = new Set(running.flatMap((j) => j.gpuIndices ?? []));
    // A GPU another program uses, or one a process of an ended job still holds, is not free either.
    const busy = (g: HostStatus['gpus'][number]) => (g.foreignProcesses ?? 0) > 0 || (g.leftoverJobs?.length ?? 0) > 0;
    s.gpus.filter(busy).forEach((g) => held.add(g.index));
    const utils = s.gpus.map((g) => g.utilizationPct).filter((u): u is number => u !== undefined);
    const ratios = jobs
      .filter((j) => j.state === 'succeeded' && j.host === s.name && j.startedAt !== undefined && j.endedAt !== undefined && j.endedAt > j.startedAt)
      .map((j) => j.runtimeSec / (((j.endedAt as number) - (j.startedAt as number)) / 1000));
    const observed = median(ratios);
    return {
      name: s.name,
      kind: s.kind,
      state: s.state,
      gpusUsed: held.size,
      gpusTotal: s.gpus.length,
      ...(utils.length > 0 ? { utilizationPct: utils.reduce((a, b) => a + b, 0) / utils.length } : {}),
      jobsRunning: running.length,
      speed: speeds.get(s.name) ?? 1,
      ...(observed !== undefined ? { observedSpeed: observed } : {}),
      observedJobs: ratios.length,
    };
  });
}

/** How far off a prediction was, as a factor: |log(predicted ÷ actual)| (0.69 is "off by 2×" either way). */
export function logError(p: PredictionRecord): number {
  return Math.abs(Math.log(p.predictedSec / p.actualSec));
}

/** At each prediction (oldest first), the median log error over it and the `window` − 1 before it. */
export function windowedErrors(recent: readonly PredictionRecord[], window = ERROR_WINDOW): Series {
  const s = emptySeries();
  const errors = recent.map(logError);
  recent.forEach((p, i) => {
    s.t.push(p.atMs);
    s.step.push(i + 1);
    s.v.push(median(errors.slice(Math.max(0, i - window + 1), i + 1)) ?? 0);
  });
  return s;
}

/**
 * The Predictions section: the error over time, the last finished jobs newest first, and each host's
 * learned overall speed. Records with a run time the page cannot show as a ratio are left out (the
 * model records only positive ones; a state file edited by hand might not).
 */
export function predictionsView(
  model: Pick<RuntimeModel, 'recent' | 'learnedSpeed'>,
  hosts: readonly HostRef[],
  window = ERROR_WINDOW,
  rows = RECENT_PREDICTIONS,
): PredictionsView {
  const ok = (x: number): boolean => Number.isFinite(x) && x > 0;
  const recent = model.recent.filter((p) => ok(p.predictedSec) && ok(p.actualSec));
  return {
    error: windowedErrors(recent, window),
    window,
    recent: recent
      .slice(-rows)
      .reverse()
      .map((p) => ({ atMs: p.atMs, script: p.script, host: p.host, predictedSec: p.predictedSec, actualSec: p.actualSec, runs: p.runs })),
    speeds: hosts.map((h) => {
      const declaredSpeed = h.declaredSpeed > 0 ? h.declaredSpeed : 1;
      const learned = model.learnedSpeed({ name: h.name, declaredSpeed });
      return { name: h.name, declaredSpeed, learnedSpeed: learned.speed, runs: learned.runs };
    }),
  };
}

export function emptyCharts(): Charts {
  return { loss: emptySeries(), reward: emptySeries(), rewardAvg: emptySeries(), epsilon: emptySeries() };
}

function emptySeries(): Series {
  return { t: [], step: [], v: [] };
}

export function toSeries(points: readonly SeriesPoint[]): Series {
  const s = emptySeries();
  for (const p of points) {
    s.t.push(p.t);
    s.step.push(p.step);
    s.v.push(Number.isFinite(p.v) ? p.v : 0);
  }
  return s;
}

/**
 * At most `maxPoints` points, in order: the points are cut into buckets and each bucket keeps its
 * lowest and highest value (in time order), so a spike in the loss is never averaged away.
 */
export function downsample(points: readonly SeriesPoint[], maxPoints: number): SeriesPoint[] {
  if (points.length <= maxPoints || maxPoints < 2) {
    return [...points];
  }
  const buckets = Math.floor(maxPoints / 2);
  const size = points.length / buckets;
  const out: SeriesPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (points[i].v < points[lo].v) lo = i;
      if (points[i].v > points[hi].v) hi = i;
    }
    if (lo === hi) {
      out.push(points[lo]);
    } else {
      out.push(points[Math.min(lo, hi)], points[Math.max(lo, hi)]);
    }
  }
  return out;
}

export function chartsOf(stats: AgentStats, maxPoints: number): Charts {
  const charts = emptyCharts();
  for (const name of SERIES_NAMES) {
    charts[name] = toSeries(downsample(stats.series[name].toArray(), maxPoints));
  }
  return charts;
}

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/**
 * Collects chart points and "something changed" marks, and calls `flush` with what accumulated at
 * most once per `intervalMs`: the first change after a quiet period goes out at once, later ones wait
 * for the interval to pass (a burst of training steps becomes one message, never one per step).
 */
export class UpdateBatcher {
  private pending = emptyCharts();
  private dirty = false;
  private timer: unknown;
  private lastFlush = -Infinity;
  private paused = false;

  constructor(
    private readonly flush: (append: Charts) => void,
    private readonly intervalMs = UPDATE_INTERVAL_MS,
    private readonly scheduler: Scheduler = realScheduler,
  ) {}

  addPoint(name: SeriesName, point: SeriesPoint): void {
    const s = this.pending[name];
    s.t.push(point.t);
    s.step.push(point.step);
    s.v.push(Number.isFinite(point.v) ? point.v : 0);
    this.markDirty();
  }

  markDirty(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.paused) {
      return;
    }
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.scheduler.now());
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.emit();
    }, wait);
  }

  /** While the view is hidden nothing is sent; the next snapshot carries everything, so pending points are dropped. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    this.reset();
  }

  /** Forgets what accumulated (a snapshot was just sent). */
  reset(): void {
    this.pending = emptyCharts();
    this.dirty = false;
    if (this.timer !== undefined) {
      this.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private emit(): void {
    if (!this.dirty || this.paused) {
      return;
    }
    const append = this.pending;
    this.pending = emptyCharts();
    this.dirty = false;
    this.lastFlush = this.scheduler.now();
    this.flush(append);
  }

  dispose(): void {
    this.reset();
  }
}
