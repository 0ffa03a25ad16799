/**
 * What each part of the dashboard writes, computed from a message's data: the texts, attribute values
 * and bar widths, apart from the DOM that shows them. Pure and without DOM types, so that the unit tests
 * run every message the protocol accepts through exactly what the page runs.
 */
import type { CandidateView, DecisionView, EvaluationRow, EvaluationView, HeaderView, HostView, Series } from '../shared/dashboardProtocol';
import { alignColumns, lastPoints } from '../shared/seriesWindow';
import { formatClockTime, formatCount, formatDateTime, formatDuration, formatFixed, formatRelativeTime, formatValue } from './format';

export type Tone = 'ok' | 'warn' | 'muted';

export interface FieldText {
  /** For data-value: tests read it without depending on formatting or locale. */
  raw: string;
  text: string;
  tone?: Tone;
  title?: string;
}

export type HeaderFieldId = 'placement' | 'backend' | 'learning' | 'steps' | 'epsilon' | 'replay' | 'decisions' | 'saved';

/** A class-name suffix from free text ("Succeeded" → "succeeded"). */
export function cssToken(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

export function savedText(savedAtMs: number | undefined, nowMs: number): FieldText {
  return savedAtMs === undefined
    ? { raw: '', text: 'not saved yet', tone: 'muted' }
    : { raw: String(savedAtMs), text: `saved ${formatRelativeTime(savedAtMs, nowMs)}`, title: formatDateTime(savedAtMs) };
}

export function headerTexts(h: HeaderView, nowMs: number): Record<HeaderFieldId, FieldText> {
  const dqn = h.placement === 'dqn';
  return {
    placement: { raw: h.placement, text: dqn ? 'DQN agent' : `${h.placement} (fallback)`, tone: dqn ? 'ok' : 'warn' },
    backend: { raw: h.backend, text: h.backend },
    learning: { raw: String(h.learning), text: h.learning ? 'on' : 'off', tone: h.learning ? 'ok' : 'muted' },
    steps: { raw: String(h.trainSteps), text: formatCount(h.trainSteps) },
    epsilon: { raw: String(h.epsilon), text: formatValue(h.epsilon) },
    replay: { raw: String(h.replaySize), text: formatCount(h.replaySize) },
    decisions: { raw: String(h.decisions), text: formatCount(h.decisions) },
    saved: savedText(h.savedAtMs, nowMs),
  };
}

/** The smallest bar still shows, so the lowest-scored candidate does not look like a missing bar. */
const MIN_BAR_PCT = 4;

export interface CandidateText {
  candidate: CandidateView;
  label: string;
  q: string;
  /** CSS width, e.g. "52.0%". */
  width: string;
  chosen: boolean;
}

export interface DecisionText {
  time: string;
  /** For the <time> element's datetime attribute. */
  iso: string;
  fullTime: string;
  priorityClass: string;
  mode: 'greedy' | 'exploratory';
  chosen: string;
  /** Highest Q first: the greedy choice leads, and an exploratory choice shows where it ranked. */
  candidates: CandidateText[];
  outcome?: { state: string; stateClass: string; text: string };
}

export function hostLabel(host: string | null): string {
  return host === null ? 'wait' : host;
}

export function decisionText(d: DecisionView): DecisionText {
  // Loops, not Math.min(...qs): a spread of a long list overflows the call stack.
  let min = Infinity;
  let max = -Infinity;
  for (const c of d.candidates) {
    min = Math.min(min, c.q);
    max = Math.max(max, c.q);
  }
  // Halved before subtracting: Q-values at the edge of a double would give Infinity − Infinity otherwise.
  const span = max / 2 - min / 2;
  const candidates = [...d.candidates]
    .sort((a, b) => b.q - a.q)
    .map((c): CandidateText => {
      const pct = span > 0 ? MIN_BAR_PCT + (100 - MIN_BAR_PCT) * ((c.q / 2 - min / 2) / span) : 100;
      return { candidate: c, label: hostLabel(c.host), q: formatValue(c.q), width: `${pct.toFixed(1)}%`, chosen: c.host === d.chosen };
    });
  const o = d.outcome;
  return {
    time: formatClockTime(d.atMs),
    iso: new Date(d.atMs).toISOString(),
    fullTime: formatDateTime(d.atMs),
    priorityClass: `priority-${cssToken(d.priority)}`,
    mode: d.explored ? 'exploratory' : 'greedy',
    chosen: hostLabel(d.chosen),
    candidates,
    ...(o ? { outcome: { state: o.state, stateClass: `state-${cssToken(o.state)}`, text: ` · ran ${formatDuration(o.runSec)} · JCT ${formatDuration(o.jctSec)}` } } : {}),
  };
}

export interface HostText {
  stateClass: string;
  gpus: string;
  utilization: string;
  jobsRunning: string;
  speed: string;
  observed?: { speed: string; jobs: string };
}

export function hostText(h: HostView): HostText {
  return {
    stateClass: `state-${cssToken(h.state)}`,
    gpus: `${formatCount(h.gpusUsed)} / ${formatCount(h.gpusTotal)}`,
    utilization: h.utilizationPct === undefined ? '—' : `${formatFixed(h.utilizationPct, 0)}%`,
    jobsRunning: formatCount(h.jobsRunning),
    speed: `×${formatFixed(h.speed, 2)}`,
    ...(h.observedSpeed === undefined
      ? {}
      : { observed: { speed: `×${formatFixed(h.observedSpeed, 2)} `, jobs: `(${formatCount(h.observedJobs)} ${h.observedJobs === 1 ? 'job' : 'jobs'})` } }),
  };
}

const HOUR = 3_600;
const DAY = 86_400;

export const EVALUATION_COLUMNS: ReadonlyArray<[label: string, cell: (r: EvaluationRow) => string]> = [
  ['Avg JCT (h)', (r) => formatFixed(r.avgJctSec / HOUR, 2)],
  ['p95 JCT (h)', (r) => formatFixed(r.p95JctSec / HOUR, 2)],
  ['Slowdown', (r) => formatFixed(r.avgSlowdown, 2)],
  ['Makespan (d)', (r) => formatFixed(r.makespanSec / DAY, 2)],
  ['GPU util', (r) => `${formatFixed(r.gpuUtil * 100, 1)}%`],
];

/** The status line's text (the page adds a progress bar while running and marks a failure as an error). */
export function evaluationStatus(e: EvaluationView): string {
  switch (e.state) {
    case 'idle':
      return "Runs the benchmark's placement policies and the agent on a bundled trace slice and compares them.";
    case 'running':
      return ` ${e.message ?? 'Running…'}`;
    case 'done':
      return e.finishedAtMs === undefined ? 'Finished.' : `Finished ${formatDateTime(e.finishedAtMs)}.`;
    case 'failed':
      return `Evaluation failed: ${e.message ?? 'unknown error'}`;
    case 'cancelled':
      return 'Evaluation cancelled.';
  }
}

export function evaluationCaption(e: EvaluationView): string {
  return [
    e.trace === undefined ? undefined : `Trace ${e.trace}`,
    e.cluster === undefined ? undefined : `cluster ${e.cluster}`,
    e.jobs === undefined ? undefined : `${formatCount(e.jobs)} jobs`,
  ]
    .filter((p): p is string => p !== undefined)
    .join(' · ');
}

export interface JctBarsText {
  bars: Array<{ row: EvaluationRow; width: string; value: string }>;
  /** CSS left of the lower-bound marker, when there is a bound. */
  lowerBound?: string;
  caption: string;
}

/** Bars of average JCT, scaled so that the longest bar or the lower bound spans the track. */
export function jctBars(e: EvaluationView): JctBarsText {
  let scale = e.lowerBoundSec ?? 0;
  for (const r of e.rows) {
    scale = Math.max(scale, r.avgJctSec);
  }
  scale ||= 1;
  // Divided first: 100 × a value near the largest double is Infinity.
  const pct = (sec: number): string => `${((sec / scale) * 100).toFixed(1)}%`;
  const lowerBound = e.lowerBoundSec;
  return {
    bars: e.rows.map((row) => ({ row, width: pct(row.avgJctSec), value: `${formatFixed(row.avgJctSec / HOUR, 2)} h` })),
    ...(lowerBound === undefined ? {} : { lowerBound: pct(lowerBound) }),
    caption:
      lowerBound === undefined
        ? 'Average JCT per policy, in hours.'
        : `Average JCT per policy, in hours. The dashed line marks the lower bound, ${formatFixed(lowerBound / HOUR, 2)} h.`,
  };
}

export interface ChartTableText {
  caption: string;
  /** Newest first. */
  rows: Array<{ time: string; step: string; values: string[] }>;
}

/** A chart's table view: the newest `limit` rows, joined on wall time, which every line has. */
export function chartTableText(title: string, series: readonly Series[], limit: number): ChartTableText {
  const total = series.length > 0 ? series[0].t.length : 0;
  const recent = series.map((s) => lastPoints(s, limit));
  const joined = alignColumns(recent, 'time');
  // The step column comes from whichever line has the point.
  const stepAt = new Map<number, number>();
  for (const s of recent) {
    s.t.forEach((t, i) => stepAt.set(t, s.step[i]));
  }
  const first = Math.max(0, joined.x.length - limit);
  const rows: ChartTableText['rows'] = [];
  for (let i = joined.x.length - 1; i >= first; i--) {
    const t = joined.x[i];
    const step = stepAt.get(t);
    rows.push({
      time: formatClockTime(t),
      step: step === undefined ? '—' : formatCount(step),
      values: joined.ys.map((column) => (column[i] === null ? '—' : formatValue(column[i] as number))),
    });
  }
  const shown = rows.length;
  const caption =
    shown === 0
      ? `${title}: no points yet.`
      : `${title}: the most recent ${formatCount(shown)} of ${formatCount(Math.max(total, shown))} points, newest first.`;
  return { caption, rows };
}
