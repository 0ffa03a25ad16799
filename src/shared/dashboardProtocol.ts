/**
 * The agent dashboard's messages, both ways, shared by the extension (src/ui/dashboardPanel.ts) and the
 * webview app (src/webview/). Plain data only. Each side validates what it receives with the parse
 * functions below and drops (and logs) anything else: a webview is a separate page, and a message is
 * only as trustworthy as the code that sent it.
 *
 * Flow: the webview posts `ready` once its script runs (again after being hidden and shown, since the
 * page is rebuilt); the extension answers with a full `snapshot`, then sends `update`s, batched and at
 * most four a second, which append chart points and replace the header, decisions and hosts.
 */

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

export interface Snapshot {
  header: HeaderView;
  charts: Charts;
  /** Newest first, at most 50. */
  decisions: DecisionView[];
  hosts: HostView[];
  evaluation: EvaluationView;
  /** Most points the webview keeps per chart (the extension's ring length). */
  historyLength: number;
}

export type ToWebview =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'update'; header: HeaderView; append: Charts; decisions: DecisionView[]; hosts: HostView[] }
  | { type: 'evaluation'; evaluation: EvaluationView };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'evaluate' }
  | { type: 'cancelEvaluation' }
  | { type: 'export' }
  /** How long the webview took to apply a message, for the log and the end-to-end test. */
  | { type: 'timing'; what: 'snapshot' | 'update'; ms: number; points: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);

/** A message from the webview, or undefined when it is not one this protocol defines. */
export function parseFromWebview(message: unknown): FromWebview | undefined {
  if (!isObject(message)) {
    return undefined;
  }
  switch (message.type) {
    case 'ready':
    case 'evaluate':
    case 'cancelEvaluation':
    case 'export':
      return { type: message.type };
    case 'timing':
      return (message.what === 'snapshot' || message.what === 'update') && isNum(message.ms) && message.ms >= 0 && isNum(message.points)
        ? { type: 'timing', what: message.what, ms: message.ms, points: message.points }
        : undefined;
    default:
      return undefined;
  }
}

export function isSeries(v: unknown): v is Series {
  return isObject(v) && isNumArray(v.t) && isNumArray(v.step) && isNumArray(v.v) && v.t.length === v.step.length && v.t.length === v.v.length;
}

function isCharts(v: unknown): v is Charts {
  return isObject(v) && CHART_NAMES.every((name) => isSeries(v[name]));
}

function isHeader(v: unknown): v is HeaderView {
  return (
    isObject(v) &&
    isStr(v.placement) &&
    isStr(v.backend) &&
    typeof v.learning === 'boolean' &&
    isNum(v.trainSteps) &&
    isNum(v.epsilon) &&
    isNum(v.replaySize) &&
    isNum(v.decisions) &&
    (v.savedAtMs === undefined || isNum(v.savedAtMs))
  );
}

function isDecision(v: unknown): v is DecisionView {
  return (
    isObject(v) &&
    isNum(v.seq) &&
    isNum(v.atMs) &&
    isStr(v.jobId) &&
    isStr(v.jobName) &&
    isStr(v.priority) &&
    isStr(v.priorityPath) &&
    Array.isArray(v.candidates) &&
    v.candidates.every((c) => isObject(c) && (c.host === null || isStr(c.host)) && isNum(c.q)) &&
    Array.isArray(v.infeasible) &&
    v.infeasible.every((c) => isObject(c) && isStr(c.host) && isStr(c.reason)) &&
    (v.chosen === null || isStr(v.chosen)) &&
    typeof v.explored === 'boolean' &&
    (v.outcome === undefined || (isObject(v.outcome) && isStr(v.outcome.state) && isNum(v.outcome.runSec) && isNum(v.outcome.jctSec)))
  );
}

function isHost(v: unknown): v is HostView {
  return (
    isObject(v) &&
    isStr(v.name) &&
    isStr(v.kind) &&
    isStr(v.state) &&
    isNum(v.gpusUsed) &&
    isNum(v.gpusTotal) &&
    isNum(v.jobsRunning) &&
    isNum(v.speed) &&
    isNum(v.observedJobs) &&
    (v.utilizationPct === undefined || isNum(v.utilizationPct)) &&
    (v.observedSpeed === undefined || isNum(v.observedSpeed))
  );
}

function isEvaluation(v: unknown): v is EvaluationView {
  return (
    isObject(v) &&
    ['idle', 'running', 'done', 'failed', 'cancelled'].includes(v.state as string) &&
    (v.message === undefined || isStr(v.message)) &&
    Array.isArray(v.rows) &&
    v.rows.every((r) => isObject(r) && isStr(r.policy) && ['avgJctSec', 'p95JctSec', 'avgSlowdown', 'makespanSec', 'gpuUtil'].every((k) => isNum(r[k])))
  );
}

/** A message from the extension, or undefined (the webview checks too: it renders only what it understands). */
export function parseToWebview(message: unknown): ToWebview | undefined {
  if (!isObject(message)) {
    return undefined;
  }
  if (message.type === 'snapshot') {
    const s = message.snapshot;
    const ok =
      isObject(s) &&
      isHeader(s.header) &&
      isCharts(s.charts) &&
      Array.isArray(s.decisions) &&
      s.decisions.every(isDecision) &&
      Array.isArray(s.hosts) &&
      s.hosts.every(isHost) &&
      isEvaluation(s.evaluation) &&
      isNum(s.historyLength);
    return ok ? (message as ToWebview) : undefined;
  }
  if (message.type === 'update') {
    const ok =
      isHeader(message.header) &&
      isCharts(message.append) &&
      Array.isArray(message.decisions) &&
      message.decisions.every(isDecision) &&
      Array.isArray(message.hosts) &&
      message.hosts.every(isHost);
    return ok ? (message as ToWebview) : undefined;
  }
  if (message.type === 'evaluation') {
    return isEvaluation(message.evaluation) ? (message as ToWebview) : undefined;
  }
  return undefined;
}
