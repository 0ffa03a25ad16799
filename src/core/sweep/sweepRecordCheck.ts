/**
 * What a loaded store's sweeps and trial jobs must hold before a strategy or a view reads them. A
 * sweep that parses is not therefore usable: a `log` range with min 0 makes every proposal NaN, a
 * `parallel` of 1e9 queues without end. A damaged sweep is set aside (storeValidation.ts), never the
 * queue; damaged metrics of a job are dropped (they are a display, not the job).
 */
import { FeatureError, checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from '../features';
import { validateJobMetrics } from '../metricsProtocol';
import { ENV_NAME } from '../job';
import { fail, filled, integer, list, oneOf, optional, plain, record, text, time } from '../storeChecks';
import { constraintsProblem } from '../hostConstraints';
import { checkStoredOutputs } from '../outputGlobs';
import type { SweepRecord, SweepStatus } from './sweepRecord';
import { STRATEGY_NAMES, type TrialState } from './sweepTypes';

const STATUSES: readonly SweepStatus[] = ['running', 'paused', 'stopped', 'finished'];
const TRIAL_STATES: readonly TrialState[] = ['queued', 'running', 'succeeded', 'failed', 'stopped', 'cancelled'];
const MAX_PARALLEL = 64;

/** The fields a job has as a sweep's trial or as a reporter of metrics. */
export function checkSweepJobFields(job: Record<string, unknown>, at: string): void {
  optional(job, at, 'env', (v, where) => {
    for (const [k, value] of Object.entries(record(v, where))) {
      if (!ENV_NAME.test(k)) {
        fail(`${where} has a variable name that is not one: ${JSON.stringify(k).slice(0, 80)}`);
      }
      plain(value, `${where}.${k}`);
    }
  });
  optional(job, at, 'sweep', (v, where) => {
    const ref = record(v, where);
    filled(ref.sweepId, `${where}.sweepId`);
    integer(ref.trial, `${where}.trial`, 1, Number.MAX_SAFE_INTEGER, 'a trial number');
    checkParams(ref.params, `${where}.params`);
  });
  optional(job, at, 'stoppedEarly', text);
  optional(job, at, 'metricsRead', (v, where) => {
    const read = record(v, where);
    integer(read.log, `${where}.log`, 0, Number.MAX_SAFE_INTEGER, 'a byte offset');
    integer(read.file, `${where}.file`, 0, Number.MAX_SAFE_INTEGER, 'a byte offset');
  });
  if (job.metrics !== undefined) {
    const metrics = validateJobMetrics(job.metrics);
    if (metrics) {
      job.metrics = metrics;
    } else {
      delete job.metrics;
    }
  }
}

export function checkSweep(value: unknown, at: string): SweepRecord {
  const sweep = record(value, at);
  filled(sweep.id, `${at}.id`);
  oneOf(sweep.status, STATUSES, `${at}.status`);
  time(sweep.createdAt, `${at}.createdAt`);
  optional(sweep, at, 'endedAt', time);
  optional(sweep, at, 'reason', text);
  checkSpec(sweep.spec, `${at}.spec`);
  list(sweep.trials, `${at}.trials`).forEach((t, i) => checkTrial(t, `${at}.trials[${i}]`));
  return sweep as unknown as SweepRecord;
}

function checkSpec(value: unknown, at: string): void {
  const spec = record(value, at);
  text(spec.name, `${at}.name`);
  filled(spec.script, `${at}.script`);
  filled(spec.cwd, `${at}.cwd`);
  list(spec.fixedArgs, `${at}.fixedArgs`).forEach((a, i) => plain(a, `${at}.fixedArgs[${i}]`));
  const params = list(spec.params, `${at}.params`);
  if (params.length === 0) {
    fail(`${at}.params is empty`);
  }
  params.forEach((p, i) => checkParam(p, `${at}.params[${i}]`));
  filled(spec.metric, `${at}.metric`);
  oneOf(spec.goal, ['min', 'max'], `${at}.goal`);
  const budget = record(spec.budget, `${at}.budget`);
  optional(budget, `${at}.budget`, 'trials', (v, where) => integer(v, where, 1, 1_000_000, 'a number of trials'));
  optional(budget, `${at}.budget`, 'gpuHours', (v, where) => positive(v, where));
  if (budget.trials === undefined && budget.gpuHours === undefined) {
    fail(`${at}.budget has neither trials nor gpuHours`);
  }
  integer(spec.parallel, `${at}.parallel`, 1, MAX_PARALLEL, `a number of parallel trials (1-${MAX_PARALLEL})`);
  checkStopping(spec.earlyStopping, `${at}.earlyStopping`);
  oneOf(spec.strategy, STRATEGY_NAMES, `${at}.strategy`);
  integer(spec.seed, `${at}.seed`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'a seed');
  try {
    checkGpus(spec.gpus);
    checkImportance(spec.importance);
    checkRuntimeSec(spec.runtimeSec);
    if (spec.expectedGain !== undefined) {
      checkExpectedGain(spec.expectedGain);
    }
  } catch (e) {
    if (e instanceof FeatureError) {
      fail(`${at}.${e.field}: ${e.message}`);
    }
    throw e;
  }
  // Checked as a job's are (storeValidation.ts): the trials are queued with them.
  optional(spec, at, 'constraints', (v, where) => {
    const problem = constraintsProblem(v);
    return problem === undefined ? v : fail(`${where} ${problem}`);
  });
  optional(spec, at, 'outputs', checkStoredOutputs);
}

function checkParam(value: unknown, at: string): void {
  const p = record(value, at);
  filled(p.name, `${at}.name`);
  optional(p, at, 'arg', filled);
  const kind = oneOf(p.kind, ['choice', 'int', 'float'], `${at}.kind`);
  if (kind === 'choice') {
    const values = list(p.values, `${at}.values`);
    if (values.length === 0 || !values.every(isParamValue)) {
      fail(`${at}.values is not a list of strings, numbers or booleans`);
    }
    return;
  }
  const min = finite(p.min, `${at}.min`);
  const max = finite(p.max, `${at}.max`);
  if (min > max || (kind === 'int' && !(Number.isSafeInteger(min) && Number.isSafeInteger(max))) || (p.log === true && min <= 0)) {
    fail(`${at} is not a usable ${kind} range`);
  }
}

function checkStopping(value: unknown, at: string): void {
  const es = record(value, at);
  const rule = oneOf(es.rule, ['off', 'median', 'asha'], `${at}.rule`);
  if (rule === 'median') {
    integer(es.graceSteps, `${at}.graceSteps`, 0, Number.MAX_SAFE_INTEGER, 'a number of steps');
    integer(es.minTrials, `${at}.minTrials`, 1, Number.MAX_SAFE_INTEGER, 'a number of trials');
  } else if (rule === 'asha') {
    integer(es.minSteps, `${at}.minSteps`, 1, Number.MAX_SAFE_INTEGER, 'a number of steps');
    integer(es.maxSteps, `${at}.maxSteps`, es.minSteps as number, Number.MAX_SAFE_INTEGER, 'a number of steps ≥ minSteps');
    if (!(typeof es.reduction === 'number' && es.reduction >= 2 && Number.isFinite(es.reduction))) {
      fail(`${at}.reduction is not a factor ≥ 2`);
    }
  }
}

function checkTrial(value: unknown, at: string): void {
  const t = record(value, at);
  integer(t.trial, `${at}.trial`, 1, Number.MAX_SAFE_INTEGER, 'a trial number');
  filled(t.jobId, `${at}.jobId`);
  checkParams(t.params, `${at}.params`);
  text(t.why, `${at}.why`);
  oneOf(t.state, TRIAL_STATES, `${at}.state`);
  list(t.curve, `${at}.curve`).forEach((p, i) => {
    const point = record(p, `${at}.curve[${i}]`);
    integer(point.step, `${at}.curve[${i}].step`, 0, Number.MAX_SAFE_INTEGER, 'a step');
    finite(point.value, `${at}.curve[${i}].value`);
  });
  if (!(typeof t.gpuSec === 'number' && t.gpuSec >= 0 && Number.isFinite(t.gpuSec))) {
    fail(`${at}.gpuSec is not a number of GPU-seconds`);
  }
  optional(t, at, 'stopWhy', text);
}

function checkParams(value: unknown, at: string): void {
  for (const [k, v] of Object.entries(record(value, at))) {
    if (!isParamValue(v)) {
      fail(`${at}.${k} is not a string, number or boolean`);
    }
  }
}

function isParamValue(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function finite(v: unknown, at: string): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(`${at} is not a finite number`);
}

function positive(v: unknown, at: string): number {
  return finite(v, at) > 0 ? (v as number) : fail(`${at} is not a positive number`);
}
