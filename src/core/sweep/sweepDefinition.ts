/**
 * The one validator of sweep definitions. A `*.sweep.json` file and a script's `# trainq-sweep:`
 * header are both turned into the same raw object and checked here, so both sources accept exactly
 * the same sweeps and refuse them with the same words. The first problem throws SweepDefinitionError
 * naming the field; nothing of a refused definition is queued.
 */
import * as path from 'node:path';
import type { Importance } from '../job';
import { ArgsError, parseArgs } from '../argv';
import { DurationError, parseDuration } from '../duration';
import { FeatureError, checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from '../features';
import type { EarlyStoppingSpec, Goal, ParamSpec, Params, StrategyName, SweepBudget, SweepSpec } from './sweepTypes';
import { STRATEGY_NAMES } from './sweepTypes';
import {
  SweepDefinitionError,
  checkKnownFields,
  finiteAt,
  has,
  integerAt,
  isObject,
  objectAt,
  oneOf,
  own,
  shown,
  stringAt,
  type JsonObject,
} from './definitionChecks';
import { parseParameters } from './sweepParameters';
import { trialPlacementAt } from './trialPlacement';

export { SweepDefinitionError } from './definitionChecks';

/** Every top-level field a definition may hold; the JSON schema's properties are the same (tested). */
export const SWEEP_FIELDS = [
  '$schema', 'name', 'script', 'args', 'parameters', 'metric', 'goal', 'budget', 'parallel',
  'earlyStopping', 'strategy', 'seed', 'gpus', 'importance', 'expectedGain', 'runtime', 'constraints', 'outputs',
] as const;
export const BUDGET_FIELDS = ['trials', 'gpuHours'] as const;
export const GOALS: readonly Goal[] = ['min', 'max'];
export const EARLY_STOPPING_RULES = ['off', 'median', 'asha'] as const;
export const EARLY_STOPPING_FIELDS = {
  off: ['rule'],
  median: ['rule', 'graceSteps', 'minTrials'],
  asha: ['rule', 'minSteps', 'reduction', 'maxSteps'],
} as const;
/** What a bare "median" or "asha", or an object leaving fields out, gets. */
export const EARLY_STOPPING_DEFAULTS = {
  median: { rule: 'median', graceSteps: 5, minTrials: 5 },
  asha: { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 27 },
} as const satisfies Record<string, EarlyStoppingSpec>;

export const DEFAULT_STRATEGY: StrategyName = 'adaptive';
export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_./-]{0,63}$/;
export const MAX_TRIALS = 10_000;
export const MAX_PARALLEL = 64;
/** A year of a large cluster; a bigger budget is a typo for a smaller one. */
export const MAX_GPU_HOURS = 1_000_000;
export const MAX_STEPS = 1_000_000_000;
/**
 * The most combinations of choice and int values the grid strategy is asked to walk. Float ranges
 * are left out: the grid strategy picks their points itself. A grid this size outlives any budget.
 */
export const MAX_GRID_POINTS = 100_000;

export interface SweepDefinitionContext {
  /** The script the sweep was started from; the definition's `script` replaces it when given. */
  scriptPath: string;
  cwd: string;
  /** The folder a relative `script` is resolved against: the definition file's (default: the script's). */
  baseDir?: string;
  /** The user's settings, for the fields a definition leaves out. */
  defaults: { gpus: number; importance: Importance; runtimeSec: number; expectedGain?: number };
}

/** A validated definition plus what SweepSpec has no place for: the fixed parameters by name. */
export interface SweepDefinition {
  spec: SweepSpec;
  fixedParams: Params;
}

/** Validates a definition, throwing SweepDefinitionError at its first problem. */
export function parseSweepDefinition(raw: unknown, ctx: SweepDefinitionContext): SweepSpec {
  return readSweepDefinition(raw, ctx).spec;
}

export function readSweepDefinition(raw: unknown, ctx: SweepDefinitionContext): SweepDefinition {
  if (!isObject(raw)) {
    throw new SweepDefinitionError('', `A sweep definition must be an object of fields (got ${shown(raw)}).`);
  }
  checkKnownFields(raw, SWEEP_FIELDS, '');
  if (has(raw, '$schema')) {
    stringAt(own(raw, '$schema'), '$schema', 2_000);
  }
  const script = scriptAt(raw, ctx);
  const name = has(raw, 'name') ? stringAt(own(raw, 'name'), 'name', 100) : path.basename(script);
  const args = argsAt(own(raw, 'args'));
  if (!has(raw, 'parameters')) {
    throw new SweepDefinitionError('parameters', 'required: the parameters to search, e.g. {"lr": {"type": "float", "min": 1e-5, "max": 0.1}}');
  }
  const parameters = parseParameters(own(raw, 'parameters'));
  const metric = metricAt(raw);
  if (!has(raw, 'goal')) {
    throw new SweepDefinitionError('goal', `required: "max" or "min", whether a larger ${metric} is better`);
  }
  const goal = oneOf(own(raw, 'goal'), 'goal', GOALS);
  const budget = budgetAt(own(raw, 'budget'));
  const parallel = has(raw, 'parallel') ? integerAt(own(raw, 'parallel'), 'parallel', 1, MAX_PARALLEL) : 1;
  const earlyStopping = has(raw, 'earlyStopping') ? earlyStoppingAt(own(raw, 'earlyStopping')) : { rule: 'off' as const };
  const strategy = has(raw, 'strategy') ? oneOf(own(raw, 'strategy'), 'strategy', STRATEGY_NAMES) : DEFAULT_STRATEGY;
  const seed = has(raw, 'seed') ? integerAt(own(raw, 'seed'), 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) : 0;
  const features = featuresAt(raw, ctx);
  const placement = trialPlacementAt(raw);
  if (budget.gpuHours !== undefined && budget.trials === undefined && features.gpus === 0) {
    throw new SweepDefinitionError('budget.gpuHours', 'cannot end a sweep whose trials use no GPUs (gpus is 0); give budget.trials');
  }
  if (strategy === 'grid') {
    checkGridSize(parameters.params);
  }
  const spec: SweepSpec = {
    name,
    script,
    cwd: ctx.cwd,
    fixedArgs: [...args, ...parameters.fixedArgs],
    params: parameters.params,
    metric,
    goal,
    budget,
    parallel,
    earlyStopping,
    strategy,
    seed,
    ...features,
    ...placement,
  };
  return { spec, fixedParams: parameters.fixedParams };
}

function scriptAt(raw: JsonObject, ctx: SweepDefinitionContext): string {
  if (!has(raw, 'script')) {
    return path.resolve(ctx.scriptPath);
  }
  const script = stringAt(own(raw, 'script'), 'script', 1_000);
  return path.resolve(ctx.baseDir ?? path.dirname(ctx.scriptPath), script);
}

function argsAt(value: unknown): string[] {
  if (value === undefined) {
    return [];
  }
  if (typeof value === 'string') {
    try {
      return parseArgs(value);
    } catch (error) {
      if (error instanceof ArgsError) {
        throw new SweepDefinitionError('args', error.message);
      }
      throw error;
    }
  }
  if (!Array.isArray(value)) {
    throw new SweepDefinitionError('args', `must be a list of arguments or one command-line string (got ${shown(value)})`);
  }
  return value.map((arg, index) => stringAt(arg, `args[${index}]`, 10_000, true));
}

function metricAt(raw: JsonObject): string {
  if (!has(raw, 'metric')) {
    throw new SweepDefinitionError('metric', 'required: the metric to optimise, as the script reports it (trainq:metric val_acc=0.93)');
  }
  const metric = own(raw, 'metric');
  if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) {
    throw new SweepDefinitionError('metric', `must start with a letter or _ and hold only letters, digits, _ . - / (64 at most; got ${shown(metric)})`);
  }
  return metric;
}

function budgetAt(value: unknown): SweepBudget {
  if (value === undefined) {
    throw new SweepDefinitionError('budget', 'required: when the sweep ends, e.g. {"trials": 40} or {"gpuHours": 12}');
  }
  const budget = objectAt(value, 'budget', '{"trials": 40, "gpuHours": 12}');
  checkKnownFields(budget, BUDGET_FIELDS, 'budget.');
  if (!has(budget, 'trials') && !has(budget, 'gpuHours')) {
    throw new SweepDefinitionError('budget', 'needs trials, gpuHours or both, so that the sweep ends');
  }
  const result: SweepBudget = {};
  if (has(budget, 'trials')) {
    result.trials = integerAt(own(budget, 'trials'), 'budget.trials', 1, MAX_TRIALS);
  }
  if (has(budget, 'gpuHours')) {
    const gpuHours = finiteAt(own(budget, 'gpuHours'), 'budget.gpuHours');
    if (gpuHours <= 0 || gpuHours > MAX_GPU_HOURS) {
      throw new SweepDefinitionError('budget.gpuHours', `must be more than 0 and at most ${MAX_GPU_HOURS} (got ${gpuHours})`);
    }
    result.gpuHours = gpuHours;
  }
  return result;
}

function earlyStoppingAt(value: unknown): EarlyStoppingSpec {
  const field = 'earlyStopping';
  const rules = EARLY_STOPPING_RULES;
  if (typeof value === 'string') {
    const rule = oneOf(value, field, rules);
    return rule === 'off' ? { rule } : { ...EARLY_STOPPING_DEFAULTS[rule] };
  }
  const spec = objectAt(value, field, '{"rule": "asha", "minSteps": 1, "reduction": 3, "maxSteps": 27}');
  if (!has(spec, 'rule')) {
    throw new SweepDefinitionError(`${field}.rule`, `required: one of ${rules.join(', ')}`);
  }
  const rule = oneOf(own(spec, 'rule'), `${field}.rule`, rules);
  checkKnownFields(spec, EARLY_STOPPING_FIELDS[rule], `${field}.`);
  if (rule === 'off') {
    return { rule };
  }
  // A field left out takes the rule's default, as a bare rule name takes them all.
  const step = (key: string, min: number, fallback: number): number =>
    has(spec, key) ? integerAt(own(spec, key), `${field}.${key}`, min, MAX_STEPS) : fallback;
  if (rule === 'median') {
    const defaults = EARLY_STOPPING_DEFAULTS.median;
    return { rule, graceSteps: step('graceSteps', 0, defaults.graceSteps), minTrials: step('minTrials', 1, defaults.minTrials) };
  }
  const defaults = EARLY_STOPPING_DEFAULTS.asha;
  const minSteps = step('minSteps', 1, defaults.minSteps);
  let reduction: number = defaults.reduction;
  if (has(spec, 'reduction')) {
    reduction = finiteAt(own(spec, 'reduction'), `${field}.reduction`);
    if (reduction < 2 || reduction > 100) {
      throw new SweepDefinitionError(`${field}.reduction`, `must be from 2 to 100: each rung keeps the top 1/reduction (got ${reduction})`);
    }
  }
  const maxSteps = step('maxSteps', 1, Math.max(defaults.maxSteps, minSteps));
  if (maxSteps < minSteps) {
    throw new SweepDefinitionError(`${field}.maxSteps`, `maxSteps (${maxSteps}) must be at least minSteps (${minSteps})`, field);
  }
  return { rule, minSteps, reduction, maxSteps };
}

type Features = Pick<SweepSpec, 'gpus' | 'importance' | 'runtimeSec' | 'expectedGain'>;

/** The per-trial job features, checked by the same rules as a queued job's. */
function featuresAt(raw: JsonObject, ctx: SweepDefinitionContext): Features {
  const pick = (key: string, fallback: unknown): unknown => (has(raw, key) ? own(raw, key) : fallback);
  const field = (key: string, check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (error instanceof FeatureError || error instanceof DurationError) {
        throw new SweepDefinitionError(key, error.message);
      }
      throw error;
    }
  };
  const gpus = pick('gpus', ctx.defaults.gpus);
  field('gpus', () => checkGpus(gpus));
  const importance = pick('importance', ctx.defaults.importance);
  field('importance', () => checkImportance(importance));
  const expectedGain = pick('expectedGain', ctx.defaults.expectedGain);
  field('expectedGain', () => checkExpectedGain(expectedGain));
  // A number is seconds; a string is a duration as typed elsewhere in TrainQ ("30m", "1h30m").
  let runtimeSec = pick('runtime', ctx.defaults.runtimeSec);
  field('runtime', () => {
    if (typeof runtimeSec === 'string') {
      runtimeSec = parseDuration(runtimeSec);
    }
    checkRuntimeSec(runtimeSec);
  });
  return {
    gpus: gpus as number,
    importance: importance as Importance,
    runtimeSec: runtimeSec as number,
    ...(expectedGain === undefined ? {} : { expectedGain: expectedGain as number }),
  };
}

function checkGridSize(params: readonly ParamSpec[]): void {
  let points = 1;
  for (const param of params) {
    if (param.kind === 'choice') {
      points *= param.values.length;
    } else if (param.kind === 'int') {
      points *= param.max - param.min + 1;
    }
  }
  if (points > MAX_GRID_POINTS) {
    throw new SweepDefinitionError(
      'strategy',
      `the grid of the choice and int parameters has ${points.toPrecision(3)} points, more than ${MAX_GRID_POINTS}; narrow the ranges or use random or adaptive`,
    );
  }
}
