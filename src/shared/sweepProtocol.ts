/**
 * The sweep view's messages, both ways, shared by the extension (src/ui/sweepPanel.ts) and the page
 * (src/webview/sweepMain.ts). Plain data only; each side validates what it receives with the functions
 * at the end of this file and drops (and logs) anything else, as the agent dashboard does.
 *
 * The view types mirror src/core/sweep/sweepTypes.ts structurally (shared imports nothing of ours);
 * test/unit/sweepViewModel.test.ts checks that a SweepRecord maps into a snapshot without loss.
 *
 * Flow: the page posts `ready` when it (re)loads; the extension answers with a `snapshot`, then sends
 * `update`s (the same whole view, replacing the page's: a sweep view is small) at most twice a second.
 *
 * Limits keep a hostile or broken sender from stalling the page: strings ≤ 4 KB, ≤ 10,000 trials,
 * ≤ 1,000 points per curve, ≤ 100 parameters, finite numbers only. Arrays are measured before their
 * items are read, so a million-element array is refused without reading it.
 */
import { array, boolean, check, count, finite, nullable, object, oneOf, optional, SchemaError, union } from './schema';
import type { Checked, Schema } from './schema';

export const MAX_TEXT = 4096;
export const MAX_TRIALS = 10_000;
export const MAX_CURVE = 1_000;
export const MAX_PARAMS = 100;
export const MAX_CHOICES = 1_000;

export type SweepStatusView = 'running' | 'paused' | 'stopped' | 'finished';
export type TrialStateView = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped' | 'cancelled';
export const TRIAL_STATES: readonly TrialStateView[] = ['queued', 'running', 'succeeded', 'failed', 'stopped', 'cancelled'];
export type ParamValueView = string | number | boolean;

/** A parameter as the sweep defines it (core's ParamSpec without `arg`, flattened over its kinds). */
export interface ParamView {
  name: string;
  kind: 'choice' | 'int' | 'float';
  /** choice only. */
  values?: ParamValueView[];
  /** int and float only. */
  min?: number;
  max?: number;
  log?: boolean;
}

/** A curve, columnar: the script's step and the metric's value there, in step order. */
export interface CurveView {
  step: number[];
  value: number[];
}

export interface TrialView {
  trial: number;
  state: TrialStateView;
  params: Record<string, ParamValueView>;
  /** The strategy's explanation of these values. */
  why: string;
  curve: CurveView;
  /** Best value of the curve for the goal; null before any report. */
  best: number | null;
  stopWhy?: string;
  jobId: string;
}

export interface SweepView {
  id: string;
  name: string;
  status: SweepStatusView;
  reason?: string;
  metric: string;
  goal: 'min' | 'max';
  strategy: string;
  /** The early-stopping rule in words. */
  rule: string;
  budget: string;
  progress: string;
  params: ParamView[];
  trials: TrialView[];
  /** The trial with the best value so far; null before any report. */
  bestTrial: number | null;
}

export type SweepToWebview = { type: 'snapshot'; sweep: SweepView } | { type: 'update'; sweep: SweepView };

export type SweepActionKind = 'pause' | 'resume' | 'stop' | 'stopTrial' | 'queueBest' | 'exportCsv' | 'exportJson' | 'openLog';
export const SWEEP_ACTION_KINDS: readonly SweepActionKind[] = ['pause', 'resume', 'stop', 'stopTrial', 'queueBest', 'exportCsv', 'exportJson', 'openLog'];
/** The actions about one trial: they must name it. */
export const TRIAL_ACTIONS: readonly SweepActionKind[] = ['stopTrial', 'queueBest', 'openLog'];

export type SweepFromWebview = { type: 'ready' } | { type: 'action'; kind: SweepActionKind; trial?: number };

// --- schemas -------------------------------------------------------------------------------------

/** A string of at most MAX_TEXT characters (names, reasons, explanations are all short). */
const text: Schema<string> = {
  read(value) {
    if (typeof value !== 'string') {
      throw new SchemaError(`expected a string, got ${value === null ? 'null' : typeof value}`);
    }
    if (value.length > MAX_TEXT) {
      throw new SchemaError(`expected a string of at most ${MAX_TEXT} characters, got ${value.length}`);
    }
    return value;
  },
};

/** An array of at most `max` items, measured before any item is read. */
function bounded<T>(item: Schema<T>, max: number, refine?: (items: T[]) => string | undefined): Schema<T[]> {
  const inner = array(item, refine);
  return {
    read(value) {
      if (Array.isArray(value) && value.length > max) {
        throw new SchemaError(`expected at most ${max} items, got ${value.length}`);
      }
      return inner.read(value);
    },
  };
}

const paramValue: Schema<ParamValueView> = {
  read(value) {
    if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      return value;
    }
    return text.read(value);
  },
};

// Keys that would reach Object.prototype through a plain object's setter or shadow its methods; the
// sweep definition refuses the same names (core/sweep/sweepParameters.ts), so no real sweep has them.
const REFUSED_KEYS = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']);

/**
 * A trial's parameters by name. Those keys are refused outright, and the copy is written with
 * defineProperty (never a setter), so even a key that slipped through could not reach a prototype.
 */
const paramValues: Schema<Record<string, ParamValueView>> = {
  read(value) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SchemaError('expected an object of parameter values');
    }
    const keys = Object.keys(value);
    if (keys.length > MAX_PARAMS) {
      throw new SchemaError(`expected at most ${MAX_PARAMS} parameters, got ${keys.length}`);
    }
    const out: Record<string, ParamValueView> = {};
    for (const key of keys) {
      const problem = REFUSED_KEYS.has(key) ? `parameter name "${key}" is not allowed` : key.length > MAX_TEXT ? 'parameter name too long' : undefined;
      if (problem) {
        throw new SchemaError(problem);
      }
      try {
        const read = paramValue.read((value as Record<string, unknown>)[key]);
        Object.defineProperty(out, key, { value: read, enumerable: true, writable: true, configurable: true });
      } catch (e) {
        if (e instanceof SchemaError) {
          e.path.unshift(key);
        }
        throw e;
      }
    }
    return out;
  },
};

const param = object<ParamView>(
  {
    name: text,
    kind: oneOf('choice', 'int', 'float'),
    values: optional(bounded(paramValue, MAX_CHOICES)),
    min: optional(finite),
    max: optional(finite),
    log: optional(boolean),
  },
  (p) => {
    if (REFUSED_KEYS.has(p.name)) {
      return `parameter name "${p.name}" is not allowed`;
    }
    if (p.kind === 'choice') {
      return p.values && p.values.length > 0 ? undefined : `choice parameter ${p.name} has no values`;
    }
    if (p.min === undefined || p.max === undefined || p.min > p.max) {
      return `${p.kind} parameter ${p.name} needs min ≤ max`;
    }
    return p.log && p.min <= 0 ? `log parameter ${p.name} needs min > 0` : undefined;
  },
);

const curve = object<CurveView>({ step: bounded(finite, MAX_CURVE), value: bounded(finite, MAX_CURVE) }, (c) =>
  c.step.length === c.value.length ? undefined : `columns step and value differ in length (${c.step.length}, ${c.value.length})`,
);

const trialNumber = count;

const trial = object<TrialView>({
  trial: trialNumber,
  state: oneOf(...TRIAL_STATES),
  params: paramValues,
  why: text,
  curve,
  best: nullable(finite),
  stopWhy: optional(text),
  jobId: text,
});

/** The page keys rows and lines on the trial number, so two trials with one number would fight over a row. */
const trials = bounded(trial, MAX_TRIALS, (list) => {
  const seen = new Set<number>();
  const twice = list.find((t) => seen.size === seen.add(t.trial).size);
  return twice === undefined ? undefined : `trial ${twice.trial} appears twice`;
});

const sweep = object<SweepView>(
  {
    id: text,
    name: text,
    status: oneOf('running', 'paused', 'stopped', 'finished'),
    reason: optional(text),
    metric: text,
    goal: oneOf('min', 'max'),
    strategy: text,
    rule: text,
    budget: text,
    progress: text,
    params: bounded(param, MAX_PARAMS),
    trials,
    bestTrial: nullable(trialNumber),
  },
  (s) => (s.bestTrial === null || s.trials.some((t) => t.trial === s.bestTrial) ? undefined : `best trial ${s.bestTrial} is not among the trials`),
);

const toWebview = union<SweepToWebview>({ snapshot: { sweep }, update: { sweep } });

const messages = union<SweepFromWebview>({ ready: {}, action: { kind: oneOf(...SWEEP_ACTION_KINDS), trial: optional(trialNumber) } });

/** The union checks each field; the rule across fields (a trial's action names its trial) is checked here. */
const fromWebview: Schema<SweepFromWebview> = {
  read(value) {
    const message = messages.read(value);
    if (message.type === 'action' && message.trial === undefined && TRIAL_ACTIONS.includes(message.kind)) {
      throw new SchemaError(`action ${message.kind} needs a trial`);
    }
    return message;
  },
};

/** A message from the page as the protocol defines it (unknown fields dropped), or why it is not one. */
export function checkSweepFromWebview(message: unknown): Checked<SweepFromWebview> {
  return check(fromWebview, message);
}

/** A message from the extension as the protocol defines it (unknown fields dropped), or why it is not one. */
export function checkSweepToWebview(message: unknown): Checked<SweepToWebview> {
  return check(toWebview, message);
}

export function parseSweepFromWebview(message: unknown): SweepFromWebview | undefined {
  const checked = checkSweepFromWebview(message);
  return checked.ok ? checked.value : undefined;
}

export function parseSweepToWebview(message: unknown): SweepToWebview | undefined {
  const checked = checkSweepToWebview(message);
  return checked.ok ? checked.value : undefined;
}
