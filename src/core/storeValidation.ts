/**
 * What a loaded store must hold for the rest of TrainQ to use it: every field the scheduler, the
 * hosts and the views read, with its type and range, and the rules across fields and jobs. A store
 * that parses is not therefore usable: `gpuIndices: "0"` lets a second job onto GPU 0, `gpus: -3`
 * starts a job with no GPUs, `gpuIndices: {}` makes every dispatch round throw.
 *
 * Damage to the document's shape (the state or one of its lists is not what it should be) makes
 * the whole store damaged, so the backup is used. Damage to one job, learned example or remembered
 * input sets that item aside with the reason, and the rest loads: one bad job must not cost the queue.
 */
import { FeatureError, checkExpectedGain, checkGpus, checkImportance, checkRuntimeSec } from './features';
import { FINISHED_STATES, PRIORITIES } from './job';
import type { Job, JobHandle, JobState } from './job';
import type { LastInputs, PriorityExample, WorkspaceState } from './workspaceState';
import { checkSweep, checkSweepJobFields } from './sweep/sweepRecordCheck';
import { checkStoredDependency } from './dependencies';
import { checkEnvJobFields } from './jobEnvironment';
import { constraintsProblem } from './hostConstraints';
import { checkStoredOutputs } from './outputGlobs';
import { StoreDamagedError, bool, fail, filled, integer, list, oneOf, optional, plain, record, text, time } from './storeChecks';

export { StoreDamagedError };

/** Every JobState; job.ts lists only the finished ones. */
const JOB_STATES: readonly JobState[] = ['queued', 'running', ...FINISHED_STATES];
/**
 * pid_t is a signed 32-bit integer on every host TrainQ runs on. 0 and 1 are never a job's group
 * (signalling group 1 would reach every process of the user), so the hosts refuse them too.
 */
const MIN_PGID = 2;
const MAX_PGID = 2 ** 31 - 1;
const JOB_HANDLE_KINDS: ReadonlyArray<JobHandle['kind']> = ['process', 'slurm'];

/** An item left out of a loaded state, with why. */
export interface SetAside {
  /** Where it was, e.g. `jobs[3]` or `lastInputs["train.py"]`. */
  where: string;
  /** The first problem found, naming the field: `jobs[3].gpuIndices is not a list of distinct GPU indices`. */
  reason: string;
  /** The item as it was read. */
  value: unknown;
}

export interface CheckedState {
  state: WorkspaceState;
  /** Items that failed their checks, in the order they appeared; empty when everything loaded. */
  setAside: SetAside[];
}

/**
 * Strict: the state if every item passes, else StoreDamagedError naming the first problem.
 * For tools and tests; loading uses checkState, which keeps what is usable.
 */
export function validateState(value: unknown): WorkspaceState {
  const { state, setAside } = checkState(value);
  if (setAside.length > 0) {
    fail(setAside[0].reason);
  }
  return state;
}

/**
 * Throws StoreDamagedError when the document's shape is wrong; otherwise keeps the items that pass,
 * in order, and sets the others aside. Kept items are the objects read, unknown fields included, so
 * saving them back changes nothing.
 */
export function checkState(value: unknown): CheckedState {
  const raw = record(value, 'the state');
  const jobs = list(raw.jobs, 'jobs');
  const examples = list(raw.priorityExamples, 'priorityExamples');
  const inputs = Object.entries(record(raw.lastInputs, 'lastInputs'));
  bool(raw.paused, 'paused');
  const setAside: SetAside[] = [];
  const indexed = (items: unknown[]) => items.map((item, i) => [i, item] as const);
  const state = {
    ...raw,
    jobs: sortOut(indexed(jobs), (i) => `jobs[${i}]`, jobChecker(), setAside).map(([, job]) => job),
    priorityExamples: sortOut(indexed(examples), (i) => `priorityExamples[${i}]`, checkExample, setAside).map(([, e]) => e),
    // fromEntries defines own properties, so a script path such as "__proto__" stays an ordinary key.
    lastInputs: Object.fromEntries(sortOut(inputs, (key) => `lastInputs[${JSON.stringify(key)}]`, checkInputs, setAside)),
    // Absent in stores from before sweeps; one damaged sweep is set aside like a damaged job.
    ...(raw.sweeps !== undefined && {
      sweeps: sortOut(indexed(list(raw.sweeps, 'sweeps')), (i) => `sweeps[${i}]`, checkSweep, setAside).map(([, s]) => s),
    }),
  } as unknown as WorkspaceState;
  return { state, setAside };
}

function sortOut<K, T>(
  entries: ReadonlyArray<readonly [K, unknown]>,
  where: (key: K) => string,
  check: (value: unknown, at: string) => T,
  setAside: SetAside[],
): Array<[K, T]> {
  const kept: Array<[K, T]> = [];
  for (const [key, value] of entries) {
    const at = where(key);
    try {
      kept.push([key, check(value, at)]);
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) {
        throw err;
      }
      setAside.push({ where: at, reason: err.message, value });
    }
  }
  return kept;
}

/**
 * Checks each job alone, then against the jobs kept before it: ids are unique, and no GPU of a host
 * is held by two running jobs. Either conflict sets the later job aside; the earlier one was fine
 * on its own, and which of the two is wrong cannot be told.
 */
function jobChecker(): (value: unknown, at: string) => Job {
  const ids = new Set<string>();
  const held = new Map<string, Map<number, string>>();
  return (value, at) => {
    const job = checkJob(value, at);
    if (ids.has(job.id)) {
      fail(`${at}.id is empty or repeated`);
    }
    if (job.state === 'running') {
      const host = job.host as string;
      const onHost = held.get(host) ?? new Map<number, string>();
      for (const gpu of job.gpuIndices as number[]) {
        const other = onHost.get(gpu);
        if (other !== undefined) {
          fail(`${at}.gpuIndices holds GPU ${gpu} on host ${JSON.stringify(host)}, which ${other} holds too`);
        }
      }
      (job.gpuIndices as number[]).forEach((gpu) => onHost.set(gpu, at));
      held.set(host, onHost);
    }
    ids.add(job.id);
    return job;
  };
}

function checkJob(value: unknown, at: string): Job {
  const job = record(value, at);
  if (plain(job.id, `${at}.id`) === '') {
    fail(`${at}.id is empty or repeated`);
  }
  plain(job.name, `${at}.name`);
  filled(job.script, `${at}.script`);
  filled(job.cwd, `${at}.cwd`);
  list(job.args, `${at}.args`).forEach((arg, i) => plain(arg, `${at}.args[${i}]`));
  const state = oneOf(job.state, JOB_STATES, `${at}.state`);
  oneOf(job.priority, PRIORITIES, `${at}.priority`);
  text(job.priorityReason, `${at}.priorityReason`);
  bool(job.priorityOverridden, `${at}.priorityOverridden`);
  // The limits the queue input and the classifier apply: whatever was queued passes them.
  checkFeatures(job, at);
  time(job.createdAt, `${at}.createdAt`);
  optional(job, at, 'prioritySetAt', time);
  optional(job, at, 'startedAt', time);
  optional(job, at, 'endedAt', time);
  optional(job, at, 'host', filled);
  optional(job, at, 'gpuIndices', gpuIndices);
  optional(job, at, 'handle', jobHandle);
  optional(job, at, 'exitCode', (v, where) => integer(v, where, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'an exit code'));
  optional(job, at, 'reason', text);
  optional(job, at, 'retryOf', text);
  optional(job, at, 'attempt', (v, where) => integer(v, where, 1, Number.MAX_SAFE_INTEGER, 'an attempt number'));
  checkSweepJobFields(job, at);
  checkStoredDependency(job, at);
  checkEnvJobFields(job, at);
  optional(job, at, 'constraints', (v, where) => {
    const problem = constraintsProblem(v);
    return problem === undefined ? v : fail(`${where} ${problem}`);
  });
  optional(job, at, 'outputs', checkStoredOutputs);
  if (state === 'running') {
    // The scheduler counts a running job's GPUs as held on its host: without the host or the
    // indices, or with fewer indices than GPUs, it would hand GPUs in use to the next job.
    for (const key of ['host', 'startedAt', 'gpuIndices']) {
      if (job[key] === undefined) {
        fail(`${at}.${key} is missing (a running job has one)`);
      }
    }
    const count = (job.gpuIndices as number[]).length;
    if (count !== job.gpus) {
      fail(`${at}.gpuIndices lists ${count} GPU${count === 1 ? '' : 's'} for a job that runs on ${job.gpus}`);
    }
  }
  return job as unknown as Job;
}

function checkExample(value: unknown, at: string): PriorityExample {
  const example = record(value, at);
  checkFeatures(record(example.features, `${at}.features`), `${at}.features`);
  oneOf(example.label, PRIORITIES, `${at}.label`);
  time(example.at, `${at}.at`);
  return example as unknown as PriorityExample;
}

function checkInputs(value: unknown, at: string): LastInputs {
  const inputs = record(value, at);
  list(inputs.args, `${at}.args`).forEach((arg, i) => plain(arg, `${at}.args[${i}]`));
  checkFeatures(inputs, at);
  return inputs as unknown as LastInputs;
}

/** features.ts holds the limits (one home for them); its message names the field and the range. */
function checkFeatures(f: Record<string, unknown>, at: string): void {
  try {
    checkGpus(f.gpus);
    checkImportance(f.importance);
    checkExpectedGain(f.expectedGain);
    checkRuntimeSec(f.runtimeSec);
  } catch (err) {
    if (err instanceof FeatureError) {
      fail(`${at}.${err.field}: ${err.message}`);
    }
    throw err;
  }
}

/** Distinct whole numbers from 0: a string, a fraction or a repeat would not match the host's GPU indices. */
function gpuIndices(value: unknown, at: string): void {
  const ok = Array.isArray(value) && value.every((g) => Number.isSafeInteger(g) && g >= 0) && new Set(value).size === value.length;
  if (!ok) {
    fail(`${at} is not a list of distinct GPU indices`);
  }
}

/** How a host finds a started job: a process group it may signal, or a Slurm id it hands to squeue and scancel. */
function jobHandle(value: unknown, at: string): void {
  const handle = record(value, at);
  const kind = oneOf(handle.kind, JOB_HANDLE_KINDS, `${at}.kind`);
  if (kind === 'process') {
    integer(handle.pgid, `${at}.pgid`, MIN_PGID, MAX_PGID, 'a process group id');
  } else if (!(typeof handle.jobId === 'string' && /^\d{1,20}$/.test(handle.jobId))) {
    // Anything but digits is damage, not an id.
    fail(`${at}.jobId is not a Slurm job id`);
  }
}
