/**
 * Edit and Re-run: a job's specification changed by the user, either queued as a new job (any job)
 * or applied in place to a job that is still queued (it keeps its id and its place in the queue).
 *
 * The in-place edit is race-safe: it runs inside one synchronous JobManager.update, where the state
 * is checked and changed together, and a dispatch round claims a job synchronously too (claim in
 * jobTransitions.ts). A job that was dispatched between opening the editor and saving it is refused
 * with a clear message and nothing changes.
 */
import { assertNoNul } from './argv';
import { checkDependency } from './dependencies';
import { userEnvNameProblem } from './envNames';
import { checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from './features';
import { constraintsProblem } from './hostConstraints';
import type { Job, JobSpec, Priority } from './job';
import type { JobManager } from './jobManager';
import { outputGlobProblem } from './outputGlobs';
import { classifierFeaturesOf } from './runtimeHistory';
import { specOf } from './jobTransitions';

/** What Edit may change: the spec less the script and folder (a different script is a different job) and the sweep. */
export type EditableField = 'args' | 'gpus' | 'importance' | 'expectedGain' | 'runtimeSec' | 'env' | 'envFile' | 'interpreter' | 'after' | 'constraints' | 'outputs';
export const EDITABLE_FIELDS: readonly EditableField[] = ['args', 'gpus', 'importance', 'expectedGain', 'runtimeSec', 'env', 'envFile', 'interpreter', 'after', 'constraints', 'outputs'];

/** An edit's priority: one set by hand (as Set Priority…), or `classifier` to drop a hand-set one. */
export type PriorityChoice = Priority | 'classifier';

/**
 * The changed fields; a field present with the value undefined clears an optional one (no .env file any more).
 * `priority` absent keeps the job's as it is (a hand-set one stays, otherwise the classifier decides).
 */
export type JobChanges = Partial<Pick<JobSpec, EditableField>> & { priority?: PriorityChoice };

/** The choice an edit starts from: the hand-set priority, or the classifier's. */
export function priorityChoiceOf(job: Pick<Job, 'priority' | 'priorityOverridden'>): PriorityChoice {
  return job.priorityOverridden ? job.priority : 'classifier';
}

/** A level the user sets by hand now: one that differs from what the job already has set by hand. */
function newHandPriority(job: Job, choice: PriorityChoice | undefined): Priority | undefined {
  return choice === undefined || choice === 'classifier' || choice === priorityChoiceOf(job) ? undefined : choice;
}

export class EditRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditRefusedError';
  }
}

/**
 * The full spec of `job` with `changes` applied: what Re-run queues. Everything the job was queued
 * with is kept (its .env file, interpreter, dependencies, constraints), not only what retry copies.
 */
export function editedSpec(job: Job, changes: JobChanges): JobSpec {
  const base = specWithAll(job);
  // A re-run is the user's own job, not another trial of the sweep.
  delete base.sweep;
  return checkedChanges(job, withChanges(base, changes));
}

function withChanges(spec: JobSpec, changes: JobChanges): JobSpec {
  const out: JobSpec = { ...spec };
  for (const key of EDITABLE_FIELDS) {
    if (key in changes) {
      const value = changes[key];
      if (value === undefined) {
        delete out[key];
      } else {
        Object.assign(out, { [key]: structuredClone(value) });
      }
    }
  }
  return out;
}

/**
 * Throws for a spec no queue input could have produced: features out of range, a NUL in an argument,
 * a bad or reserved variable name. Names the job already had (a sweep trial's TRAINQ_PARAM_*) stay.
 */
function checkedChanges(old: JobSpec, spec: JobSpec): JobSpec {
  checkGpus(spec.gpus);
  checkImportance(spec.importance);
  checkExpectedGain(spec.expectedGain);
  checkRuntimeSec(spec.runtimeSec);
  assertNoNul(spec.args);
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    const kept = old.env !== undefined && Object.hasOwn(old.env, name) && old.env[name] === value;
    const problem = kept ? undefined : userEnvNameProblem(name);
    if (problem) {
      throw new EditRefusedError(`Environment: ${problem}.`);
    }
    if (value.includes('\0')) {
      throw new EditRefusedError(`Environment: the value of ${name} contains a NUL character.`);
    }
  }
  if (spec.envFile !== undefined && !spec.envFile.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(spec.envFile)) {
    throw new EditRefusedError('The .env file must be given as an absolute path.');
  }
  if (spec.interpreter !== undefined && (spec.interpreter.trim() === '' || /[\0\n\r]/.test(spec.interpreter))) {
    throw new EditRefusedError('The interpreter must be a path or program name on one line.');
  }
  const constraints = spec.constraints === undefined ? undefined : constraintsProblem(spec.constraints);
  if (constraints) {
    throw new EditRefusedError(`Host constraints: ${constraints}`);
  }
  const output = spec.outputs?.map(outputGlobProblem).find((p) => p !== undefined);
  if (output) {
    throw new EditRefusedError(`Outputs: ${output}`);
  }
  return spec;
}

/**
 * Re-run: queues the edited spec as a new job; a priority the user set by hand carries over, as for
 * Retry, unless the edit sets another (as Set Priority… does) or leaves it to the classifier.
 */
export async function rerunJob(manager: Pick<JobManager, 'job' | 'queue' | 'update' | 'setPriority'>, id: string, changes: JobChanges): Promise<Job> {
  const old = manager.job(id);
  if (!old) {
    throw new EditRefusedError('That job is no longer in the queue.');
  }
  const job = await manager.queue(editedSpec(old, changes));
  const byHand = newHandPriority(old, changes.priority);
  if (byHand) {
    await manager.setPriority(job.id, byHand);
  } else if (old.priorityOverridden && changes.priority !== 'classifier') {
    await manager.update(() => Object.assign(job, { priority: old.priority, priorityReason: old.priorityReason, priorityOverridden: true, prioritySetAt: old.prioritySetAt }));
  }
  return job;
}

/**
 * Edit in place: applies `changes` to the queued job `id`. Refused, with nothing changed, when the
 * job was dispatched (or ended, or removed) since the editor opened. Its priority is classified
 * again from the new features unless the user set it by hand (setPriority's override stays); a
 * `priority` change sets it by hand as Set Priority… does, or (`classifier`) drops the override.
 */
export async function editQueuedJob(
  manager: Pick<JobManager, 'update' | 'classify' | 'runtimeModel' | 'kick' | 'overridePriorityOf'>,
  id: string,
  changes: JobChanges,
): Promise<Job> {
  let edited: Job | undefined;
  await manager.update((state) => {
    // Checked and changed in this one synchronous callback: no dispatch round can come in between.
    const job = state.jobs.find((j) => j.id === id);
    if (!job) {
      throw new EditRefusedError('That job is no longer in the queue; nothing was changed.');
    }
    if (job.state !== 'queued') {
      throw new EditRefusedError(`${job.name} is ${job.state} now (it was dispatched while you edited it); nothing was changed. Use Edit and Re-run to queue a changed copy.`);
    }
    const spec = checkedChanges(job, withChanges(specWithAll(job), changes));
    if (spec.after) {
      // The same check as queueing and Run after… (dependencies.ts): known jobs, no cycle through this one.
      checkDependency(state.jobs, spec.after, id);
    }
    const byHand = newHandPriority(job, changes.priority);
    const keepsHand = job.priorityOverridden && changes.priority !== 'classifier';
    const verdict = byHand || keepsHand ? undefined : manager.classify(classifierFeaturesOf(spec, manager.runtimeModel));
    for (const key of EDITABLE_FIELDS) {
      if (spec[key] === undefined) {
        delete job[key];
      } else {
        Object.assign(job, { [key]: spec[key] });
      }
    }
    if (byHand) {
      manager.overridePriorityOf(job, byHand);
    } else if (verdict) {
      Object.assign(job, { priority: verdict.priority, priorityReason: verdict.path, priorityOverridden: false });
      delete job.prioritySetAt; // aging counts from its creation again, as for any job the classifier placed
    }
    edited = job;
  });
  void manager.kick();
  return edited!;
}

/** The job's spec with every editable field it has (specOf copies only what a retry needs). */
function specWithAll(job: Job): JobSpec {
  const spec: JobSpec = { ...specOf(job) };
  for (const key of EDITABLE_FIELDS) {
    if (job[key] !== undefined) {
      Object.assign(spec, { [key]: structuredClone(job[key]) });
    }
  }
  return spec;
}
