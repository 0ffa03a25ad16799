/**
 * The plain rules between a sweep and its trial jobs: the job spec a trial is queued with (its
 * arguments and environment), how a job's state and metrics become the trial's record, and the
 * early-stopping verdict. Functions of data only, so they are tested without a queue.
 */
import type { Job, JobSpec } from '../job';
import { createStopRule } from './earlyStopping';
import { argsFor, paramEnv } from './paramSpace';
import { thinCurve, trialRecords, type SweepRecord, type SweepTrial } from './sweepRecord';
import type { MetricPoint, Params, SweepSpec, TrialState } from './sweepTypes';

export function sweepFromDefinition(id: string, spec: SweepSpec, now: number): SweepRecord {
  return { id, spec, status: 'running', createdAt: now, trials: [] };
}

/** A trial's job: the sweep's script with its fixed arguments, then the trial's parameters as arguments. */
export function trialJobSpec(sweep: SweepRecord, trial: number, params: Params): JobSpec {
  const { spec } = sweep;
  return {
    script: spec.script,
    args: [...spec.fixedArgs, ...argsFor(spec.params, params)],
    cwd: spec.cwd,
    gpus: spec.gpus,
    importance: spec.importance,
    expectedGain: spec.expectedGain,
    runtimeSec: spec.runtimeSec,
    env: { ...paramEnv(params), TRAINQ_SWEEP_ID: sweep.id, TRAINQ_TRIAL_ID: String(trial) },
    sweep: { sweepId: sweep.id, trial, params },
  };
}

/** What a job's state means for its trial; a job gone from the history leaves the trial as it was. */
export function trialStateOf(job: Job): TrialState {
  switch (job.state) {
    case 'queued':
    case 'running':
    case 'succeeded':
      return job.state;
    case 'cancelled':
      return job.stoppedEarly !== undefined ? 'stopped' : 'cancelled';
    case 'failed':
    case 'lost':
      return 'failed';
  }
}

/** The job's series of the sweep metric, as the trial keeps it. */
export function curveOf(job: Job, metric: string): MetricPoint[] {
  const series = job.metrics?.series[metric];
  return series ? thinCurve(series.map((p) => ({ step: p.step, value: p.value }))) : [];
}

/** Copies the job's state, curve and GPU time into the trial; true when anything changed. */
export function updateTrialFromJob(sweep: SweepRecord, t: SweepTrial, job: Job | undefined, now: number): boolean {
  if (!job) {
    // The job left the history: a trial that never ended there is counted as cancelled.
    if (t.state === 'queued' || t.state === 'running') {
      t.state = 'cancelled';
      return true;
    }
    return false;
  }
  const state = trialStateOf(job);
  const curve = curveOf(job, sweep.spec.metric);
  const gpuSec = job.startedAt === undefined ? 0 : (Math.max(0, (job.endedAt ?? now) - job.startedAt) / 1000) * Math.max(1, job.gpus);
  const stopWhy = job.stoppedEarly ?? t.stopWhy;
  const changed = state !== t.state || curve.length !== t.curve.length || stopWhy !== t.stopWhy || (state !== 'running' && gpuSec !== t.gpuSec);
  // Only the curve's length is compared: reports only ever append (a thinned curve changes length too).
  Object.assign(t, { state, curve: curve.length > 0 || t.curve.length === 0 ? curve : t.curve, gpuSec, stopWhy });
  return changed;
}

/** The rule's reason to stop this running trial now, or undefined to let it go on. */
export function earlyStopVerdict(sweep: SweepRecord, t: SweepTrial): string | undefined {
  if (sweep.spec.earlyStopping.rule === 'off' || t.curve.length === 0) {
    return undefined;
  }
  const rule = createStopRule(sweep.spec.earlyStopping, sweep.spec.goal, sweep.spec.metric);
  const all = trialRecords(sweep);
  const me = all.find((r) => r.trial === t.trial)!;
  const decision = rule.decide({ ...me, state: 'running' }, all);
  return decision.stop ? decision.why : undefined;
}
