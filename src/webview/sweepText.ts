/**
 * What the sweep page computes from a SweepView before drawing it: which buttons apply, the table's
 * order, the best-so-far curve, and the texts of values and tooltips. Pure (no DOM), so unit tests
 * run it in Node.
 */
import type { ParamValueView, SweepStatusView, SweepView, TrialStateView, TrialView } from '../shared/sweepProtocol';
import { formatValue } from './format';

export interface HeaderButtons {
  pause: boolean;
  resume: boolean;
  stop: boolean;
  queueBest: boolean;
  exportData: boolean;
}

/** Which header buttons are enabled for the sweep's status (a disabled one stays visible, so the layout holds). */
export function headerButtons(view: Pick<SweepView, 'status' | 'bestTrial' | 'trials'>): HeaderButtons {
  const live = view.status === 'running' || view.status === 'paused';
  return {
    pause: view.status === 'running',
    resume: view.status === 'paused',
    stop: live,
    queueBest: view.bestTrial !== null,
    exportData: view.trials.length > 0,
  };
}

export const STATUS_LABELS: Record<SweepStatusView, string> = { running: 'Running', paused: 'Paused', stopped: 'Stopped', finished: 'Finished' };
export const STATE_LABELS: Record<TrialStateView, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  stopped: 'Stopped early',
  cancelled: 'Cancelled',
};

export function isActive(state: TrialStateView): boolean {
  return state === 'queued' || state === 'running';
}

/** Stopped and cancelled trials are drawn dashed and faint: they never ran to the end. */
export function isCutShort(state: TrialStateView): boolean {
  return state === 'stopped' || state === 'cancelled';
}

export function paramText(value: ParamValueView | undefined): string {
  if (value === undefined) {
    return '—';
  }
  return typeof value === 'number' ? formatValue(value) : String(value);
}

export function metricText(value: number | null): string {
  return value === null ? '—' : formatValue(value);
}

/** The last step a trial reported, or null before any report. */
export function lastStep(trial: TrialView): number | null {
  const steps = trial.curve.step;
  return steps.length > 0 ? steps[steps.length - 1] : null;
}

/** A row's tooltip: the strategy's reason for the values, and why it was stopped early. */
export function trialTooltip(trial: TrialView): string {
  return [trial.why && `Why these values: ${trial.why}`, trial.stopWhy && `Stopped early: ${trial.stopWhy}`].filter(Boolean).join('\n');
}

/** A sortable column: a fixed one, or a parameter's (`param:<name>`). */
export type SortKey = 'trial' | 'state' | 'best' | 'steps' | `param:${string}`;
export interface SortOrder {
  key: SortKey;
  dir: 'ascending' | 'descending';
}

export const DEFAULT_SORT: SortOrder = { key: 'trial', dir: 'ascending' };

type Sortable = number | string | boolean | null;

function sortValue(trial: TrialView, key: SortKey): Sortable {
  switch (key) {
    case 'trial':
      return trial.trial;
    case 'state':
      return trial.state;
    case 'best':
      return trial.best;
    case 'steps':
      return lastStep(trial);
    default:
      return trial.params[key.slice('param:'.length)] ?? null;
  }
}

/** Numbers before strings before booleans; among strings a natural order ("lr2" < "lr10"). */
function compare(a: Sortable, b: Sortable): number {
  const rank = (v: Sortable): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  if (rank(a) !== rank(b)) {
    return rank(a) - rank(b);
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return a.localeCompare(b, undefined, { numeric: true });
  }
  return Number(a) - Number(b);
}

/**
 * The trials in the table's order. Trials without a value for the column (no report yet) go last in
 * either direction, since "nothing yet" is neither good nor bad; ties keep trial order.
 */
export function sortTrials(trials: readonly TrialView[], order: SortOrder): TrialView[] {
  const sign = order.dir === 'ascending' ? 1 : -1;
  return trials
    .map((trial) => ({ trial, value: sortValue(trial, order.key) }))
    .sort((x, y) => {
      if (x.value === null || y.value === null) {
        return x.value === y.value ? x.trial.trial - y.trial.trial : x.value === null ? 1 : -1;
      }
      return sign * compare(x.value, y.value) || x.trial.trial - y.trial.trial;
    })
    .map((x) => x.trial);
}

/** Clicking the sorted column flips it; another column starts with its natural direction (best: best first). */
export function nextSort(current: SortOrder, key: SortKey, goal: 'min' | 'max'): SortOrder {
  if (current.key === key) {
    return { key, dir: current.dir === 'ascending' ? 'descending' : 'ascending' };
  }
  return { key, dir: key === 'best' && goal === 'max' ? 'descending' : 'ascending' };
}

/** The best value reached by trial n or any before it, one point per trial that reported. */
export function bestSoFar(trials: readonly TrialView[], goal: 'min' | 'max'): { trial: number[]; value: number[] } {
  const ordered = trials.filter((t) => t.best !== null).sort((a, b) => a.trial - b.trial);
  const out = { trial: [] as number[], value: [] as number[] };
  let best: number | undefined;
  for (const t of ordered) {
    const v = t.best as number;
    if (best === undefined || (goal === 'max' ? v > best : v < best)) {
      best = v;
    }
    out.trial.push(t.trial);
    out.value.push(best);
  }
  return out;
}

/**
 * Which trials' curves to draw when there are many: every active trial, the best, and the newest up to
 * `max` in all. Hundreds of overlapping lines say no more than the table does, and cost each update.
 */
export function curvesToDraw(view: Pick<SweepView, 'trials' | 'bestTrial'>, max: number): TrialView[] {
  const withPoints = view.trials.filter((t) => t.curve.step.length > 0);
  if (withPoints.length <= max) {
    return withPoints;
  }
  const chosen = new Set<TrialView>(withPoints.filter((t) => t.trial === view.bestTrial || isActive(t.state)).slice(0, max));
  for (let i = withPoints.length - 1; i >= 0 && chosen.size < max; i--) {
    chosen.add(withPoints[i]);
  }
  return withPoints.filter((t) => chosen.has(t));
}
