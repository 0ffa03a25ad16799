/**
 * Shape checks for a loaded store. Close enough to reject garbage (a stray file, a half-merged
 * edit, a store from another tool); a failure counts as a damaged store, so the backup is used.
 */
import { FINISHED_STATES, IMPORTANCES, PRIORITIES } from './job';
import type { JobState } from './job';
import type { WorkspaceState } from './workspaceState';

/** A store file that cannot be used: unparseable, empty, truncated or failing validation. */
export class StoreDamagedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StoreDamagedError';
  }
}

/** Every JobState; job.ts lists only the finished ones. */
const JOB_STATES: readonly JobState[] = ['queued', 'running', ...FINISHED_STATES];

/**
 * Checks the shape closely enough to reject garbage (a stray file, a half-merged edit, a store
 * from another tool); a failure counts as a damaged store, so the backup is used instead.
 */
export function validateState(value: unknown): WorkspaceState {
  const state = record(value, 'the state');
  const ids = new Set<string>();
  list(state.jobs, 'jobs').forEach((item, i) => {
    const at = `jobs[${i}]`;
    const job = record(item, at);
    const id = text(job.id, `${at}.id`);
    if (id === '' || ids.has(id)) {
      fail(`${at}.id is empty or repeated`);
    }
    ids.add(id);
    ['name', 'script', 'cwd', 'priorityReason'].forEach((key) => text(job[key], `${at}.${key}`));
    ['gpus', 'runtimeSec', 'createdAt'].forEach((key) => num(job[key], `${at}.${key}`));
    texts(job.args, `${at}.args`);
    oneOf(job.state, JOB_STATES, `${at}.state`);
    oneOf(job.priority, PRIORITIES, `${at}.priority`);
    oneOf(job.importance, IMPORTANCES, `${at}.importance`);
    bool(job.priorityOverridden, `${at}.priorityOverridden`);
    if (job.slurmJobId !== undefined && !(typeof job.slurmJobId === 'string' && /^\d{1,20}$/.test(job.slurmJobId))) {
      // It is handed to squeue and scancel: anything but digits is damage, not an id.
      fail(`${at}.slurmJobId is not a Slurm job id`);
    }
  });
  list(state.priorityExamples, 'priorityExamples').forEach((item, i) => {
    const at = `priorityExamples[${i}]`;
    const example = record(item, at);
    record(example.features, `${at}.features`);
    oneOf(example.label, PRIORITIES, `${at}.label`);
    num(example.at, `${at}.at`);
  });
  for (const [script, item] of Object.entries(record(state.lastInputs, 'lastInputs'))) {
    const at = `lastInputs[${JSON.stringify(script)}]`;
    const inputs = record(item, at);
    texts(inputs.args, `${at}.args`);
    num(inputs.gpus, `${at}.gpus`);
    num(inputs.runtimeSec, `${at}.runtimeSec`);
    oneOf(inputs.importance, IMPORTANCES, `${at}.importance`);
  }
  bool(state.paused, 'paused');
  return state as unknown as WorkspaceState;
}

function fail(what: string): never {
  throw new StoreDamagedError(what);
}

function record(value: unknown, at: string): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : fail(`${at} is not an object`);
}

function list(value: unknown, at: string): unknown[] {
  return Array.isArray(value) ? value : fail(`${at} is not a list`);
}

function text(value: unknown, at: string): string {
  return typeof value === 'string' ? value : fail(`${at} is not a string`);
}

function texts(value: unknown, at: string): void {
  list(value, at).forEach((item, i) => text(item, `${at}[${i}]`));
}

function num(value: unknown, at: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(`${at} is not a number`);
  }
}

function bool(value: unknown, at: string): void {
  if (typeof value !== 'boolean') {
    fail(`${at} is not true or false`);
  }
}

function oneOf<T>(value: unknown, allowed: readonly T[], at: string): void {
  if (!allowed.includes(value as T)) {
    fail(`${at} is not one of ${allowed.join(', ')}`);
  }
}
