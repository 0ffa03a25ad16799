/**
 * The agent dashboard's messages, both ways, shared by the extension (src/ui/dashboardPanel.ts) and the
 * webview app (src/webview/). Plain data only. Each side validates what it receives with the parse
 * functions below and drops (and logs) anything else: a webview is a separate page, and a message is
 * only as trustworthy as the code that sent it.
 *
 * Every field of every message is checked, by validators derived from the field tables at the end of
 * this file (see schema.ts), so that nothing the page would choke on gets past this boundary.
 *
 * Flow: the webview posts `ready` once its script runs (again after being hidden and shown, since the
 * page is rebuilt); the extension answers with a full `snapshot`, then sends `update`s, batched and at
 * most four a second, which append chart points and replace the header, decisions, hosts and predictions.
 */
import { array, boolean, check, count, finite, nonNegative, nullable, number, object, oneOf, optional, string, timeMs, union } from './schema';
import type { Checked } from './schema';

/** Chart points, columnar: wall-clock time (epoch ms), training step at that time, and the value. */
export interface Series {
  t: number[];
  step: number[];
  v: number[];
}

export type ChartName = 'loss' | 'reward' | 'rewardAvg' | 'epsilon';
export const CHART_NAMES: readonly ChartName[] = ['loss', 'reward', 'rewardAvg', 'epsilon'];
export type Charts = Record<ChartName, Series>;

export interface HeaderView {
  /** 'dqn' when the agent decides, else the fallback heuristic's name. */
  placement: string;
  backend: string;
  learning: boolean;
  trainSteps: number;
  epsilon: number;
  replaySize: number;
  decisions: number;
  savedAtMs?: number;
}

export interface CandidateView {
  /** Host name; null is "wait". */
  host: string | null;
  q: number;
}

export interface InfeasibleView {
  host: string;
  reason: string;
}

export interface OutcomeView {
  state: string;
  runSec: number;
  /** Job completion time: queued to finished. */
  jctSec: number;
}

export interface DecisionView {
  /** Increasing per decision; stable across updates (the webview keys rows on it). */
  seq: number;
  atMs: number;
  jobId: string;
  jobName: string;
  priority: string;
  /** The classifier's decision path, e.g. "gpus ≥ 4 · runtime ≤ 2h → High". */
  priorityPath: string;
  candidates: CandidateView[];
  infeasible: InfeasibleView[];
  /** Chosen host; null is "wait". */
  chosen: string | null;
  explored: boolean;
  outcome?: OutcomeView;
}

export interface HostView {
  name: string;
  kind: string;
  state: string;
  gpusUsed: number;
  gpusTotal: number;
  utilizationPct?: number;
  jobsRunning: number;
  /** Configured speed factor. */
  speed: number;
  /** Median of estimate ÷ actual run time over this host's finished jobs; undefined before any. */
  observedSpeed?: number;
  observedJobs: number;
}

export interface EvaluationRow {
  policy: string;
  avgJctSec: number;
  p95JctSec: number;
  avgSlowdown: number;
  makespanSec: number;
  gpuUtil: number;
}

export interface EvaluationView {
  state: 'idle' | 'running' | 'done' | 'failed' | 'cancelled';
  /** Progress or failure text. */
  message?: string;
  trace?: string;
  cluster?: string;
  jobs?: number;
  lowerBoundSec?: number;
  rows: EvaluationRow[];
  finishedAtMs?: number;
}

/** One finished job as the run-time model predicted it just before learning from it. */
export interface PredictionRow {
  /** When the job ended. */
  atMs: number;
  script: string;
  host: string;
  predictedSec: number;
  actualSec: number;
  /** Earlier runs of the job's identity when it was predicted; 0 is its first run. */
  runs: number;
}

export interface HostSpeedView {
  name: string;
  /** The speed in the host's settings. */
  declaredSpeed: number;
  /** The model's overall speed for the host (all scripts), shrunk toward the declared one. */
  learnedSpeed: number;
  /** Finished jobs the learned speed rests on. */
  runs: number;
}

export interface PredictionsView {
  /**
   * Median |log(predicted ÷ actual)| over the last `window` predictions, one point per finished job:
   * t its end time, step its ordinal among the predictions kept.
   */
  error: Series;
  window: number;
  /** Newest first, at most 20. */
  recent: PredictionRow[];
  speeds: HostSpeedView[];
}

export interface Snapshot {
  header: HeaderView;
  charts: Charts;
  /** Newest first, at most 50. */
  decisions: DecisionView[];
  hosts: HostView[];
  evaluation: EvaluationView;
  /**
   * Optional so that a page state saved by a build without predictions still restores (and senders
   * that predate them still check); the page shows the empty state when it is missing.
   */
  predictions?: PredictionsView;
  /** Most points the webview keeps per chart (the extension's ring length). */
  historyLength: number;
}

export type ToWebview =
  | { type: 'snapshot'; snapshot: Snapshot }
  /** predictions, when present, replaces the page's (it is small: the model keeps at most 200 records). */
  | { type: 'update'; header: HeaderView; append: Charts; decisions: DecisionView[]; hosts: HostView[]; predictions?: PredictionsView }
  | { type: 'evaluation'; evaluation: EvaluationView };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'evaluate' }
  | { type: 'cancelEvaluation' }
  | { type: 'export' }
  /** How long the webview took to apply a message, for the log and the end-to-end test. */
  | { type: 'timing'; what: 'snapshot' | 'update'; ms: number; points: number };

// The field tables: each message's fields once, checked by the compiler against the types above, and the
// validators derived from them. Ranges are what the page can show: times a Date can hold (Intl and
// toISOString throw beyond ±8.64e15 ms), counts whole and ≥ 0, ε a probability. Measured values (Q-values,
// losses, run times, utilisation, speeds) need only be finite: one odd measurement must not blank the page.
const series = object<Series>({ t: array(timeMs), step: array(count), v: array(finite) }, (s) =>
  s.t.length === s.step.length && s.t.length === s.v.length ? undefined : `columns t, step and v differ in length (${s.t.length}, ${s.step.length}, ${s.v.length})`,
);

const charts = object<Charts>({ loss: series, reward: series, rewardAvg: series, epsilon: series });

const header = object<HeaderView>({
  placement: string,
  backend: string,
  learning: boolean,
  trainSteps: count,
  epsilon: number({ min: 0, max: 1 }, 'a probability from 0 to 1'),
  replaySize: count,
  decisions: count,
  savedAtMs: optional(timeMs),
});

const decision = object<DecisionView>({
  seq: count,
  atMs: timeMs,
  jobId: string,
  jobName: string,
  priority: string,
  priorityPath: string,
  candidates: array(object<CandidateView>({ host: nullable(string), q: finite })),
  infeasible: array(object<InfeasibleView>({ host: string, reason: string })),
  chosen: nullable(string),
  explored: boolean,
  outcome: optional(object<OutcomeView>({ state: string, runSec: finite, jctSec: finite })),
});

/** The page keys decision rows on seq, so two decisions with one seq would share (and fight over) a row. */
const decisions = array(decision, (list) => {
  const seen = new Set<number>();
  const twice = list.find((d) => seen.size === seen.add(d.seq).size);
  return twice === undefined ? undefined : `seq ${twice.seq} appears twice`;
});

const hosts = array(
  object<HostView>({
    name: string,
    kind: string,
    state: string,
    gpusUsed: count,
    gpusTotal: count,
    utilizationPct: optional(finite),
    jobsRunning: count,
    speed: finite,
    observedSpeed: optional(finite),
    observedJobs: count,
  }),
);

const evaluation = object<EvaluationView>({
  state: oneOf('idle', 'running', 'done', 'failed', 'cancelled'),
  message: optional(string),
  trace: optional(string),
  cluster: optional(string),
  jobs: optional(count),
  lowerBoundSec: optional(nonNegative),
  rows: array(
    object<EvaluationRow>({
      policy: string,
      avgJctSec: nonNegative,
      p95JctSec: nonNegative,
      avgSlowdown: nonNegative,
      makespanSec: nonNegative,
      gpuUtil: nonNegative,
    }),
  ),
  finishedAtMs: optional(timeMs),
});

// Run times must be > 0 to be shown as a ratio (the model records only positive ones); speeds likewise.
const positive = number({ min: Number.MIN_VALUE }, 'a finite number > 0');

const predictions = object<PredictionsView>({
  error: series,
  window: count,
  recent: array(
    object<PredictionRow>({ atMs: timeMs, script: string, host: string, predictedSec: positive, actualSec: positive, runs: count }),
  ),
  speeds: array(object<HostSpeedView>({ name: string, declaredSpeed: positive, learnedSpeed: positive, runs: count })),
});

const toWebview = union<ToWebview>({
  snapshot: {
    snapshot: object<Snapshot>({ header, charts, decisions, hosts, evaluation, predictions: optional(predictions), historyLength: count }),
  },
  update: { header, append: charts, decisions, hosts, predictions: optional(predictions) },
  evaluation: { evaluation },
});

const fromWebview = union<FromWebview>({
  ready: {},
  evaluate: {},
  cancelEvaluation: {},
  export: {},
  timing: { what: oneOf('snapshot', 'update'), ms: nonNegative, points: count },
});

/** A message from the webview as the protocol defines it (unknown fields dropped), or why it is not one. */
export function checkFromWebview(message: unknown): Checked<FromWebview> {
  return check(fromWebview, message);
}

/** A message from the extension as the protocol defines it (unknown fields dropped), or why it is not one. */
export function checkToWebview(message: unknown): Checked<ToWebview> {
  return check(toWebview, message);
}

/** A message from the webview, or undefined when it is not one this protocol defines. */
export function parseFromWebview(message: unknown): FromWebview | undefined {
  const checked = checkFromWebview(message);
  return checked.ok ? checked.value : undefined;
}

/** A message from the extension, or undefined (the webview checks too: it renders only what it understands). */
export function parseToWebview(message: unknown): ToWebview | undefined {
  const checked = checkToWebview(message);
  return checked.ok ? checked.value : undefined;
}
