/**
 * Dependencies between jobs (JobSpec.after): whether a queued job may start, what it waits for, which
 * dependency failed it, and the checks a new dependency must pass. Pure functions of the job list, so
 * the dispatcher, the ETA planner, the views and the tests agree.
 *
 * `after`: every listed job ended, whatever its outcome. `after-ok`: every listed job succeeded; once
 * one failed, was cancelled or lost, the dependent can never run, so it is ended Cancelled with
 * `dependencyFailed` naming that job, and its own `after-ok` dependents follow (settleDependents).
 *
 * A dependency no longer in the store counts as ended with an unknown outcome: `after` proceeds,
 * `after-ok` fails. Removing a job from the history first settles its dependents and then strips
 * its id from the queued ones (forgetRemoved), so only a hand-edited or partly damaged store gets here.
 */
import { isFinished, type Job, type JobDependency } from './job';
import { finish } from './jobTransitions';
import { fail, filled, list, oneOf, optional, record } from './storeChecks';

/** A dependency that cannot be set (bad mode, unknown job, a cycle); the message is for the user. */
export class DependencyError extends Error {}

export type DependencyState =
  | { kind: 'ready' }
  | { kind: 'waiting'; on: Job[] }
  /** `dependency` is undefined when the job `id` is no longer in the store. */
  | { kind: 'failed'; id: string; dependency?: Job };

export type JobLookup = (id: string) => Job | undefined;

/** Where a job stands with its dependencies; a failure wins over waiting (the job can never run). */
export function dependencyState(job: Job, lookup: JobLookup): DependencyState {
  const after = job.after;
  if (!after || after.jobs.length === 0) {
    return { kind: 'ready' };
  }
  const on: Job[] = [];
  for (const id of after.jobs) {
    const dependency = lookup(id);
    if (!dependency) {
      if (after.mode === 'after-ok') {
        return { kind: 'failed', id };
      }
    } else if (!isFinished(dependency.state)) {
      on.push(dependency);
    } else if (after.mode === 'after-ok' && dependency.state !== 'succeeded') {
      return { kind: 'failed', id, dependency };
    }
  }
  return on.length > 0 ? { kind: 'waiting', on } : { kind: 'ready' };
}

export function lookupIn(jobs: readonly Job[]): JobLookup {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return (id) => byId.get(id);
}

/** How texts name a job: its display name, with the id's start when another job has the same name. */
export type JobLabel = (job: Job) => string;

/** Counts the names once: a round labels every waiting job, and a scan of the history per label was quadratic. */
export function labeller(jobs: readonly Job[]): JobLabel {
  const counts = new Map<string, number>();
  for (const j of jobs) {
    counts.set(j.name, (counts.get(j.name) ?? 0) + 1);
  }
  return (job) => ((counts.get(job.name) ?? 0) > 1 ? `${job.name} (${job.id.slice(0, 8)})` : job.name);
}

/** `Waits for train.py and prep.sh to succeed.`: the reason a waiting job shows (the tree shortens it). */
export function waitingText(mode: JobDependency['mode'], on: readonly Job[], label: JobLabel): string {
  const names = on.map(label);
  const list = names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `Waits for ${list} to ${mode === 'after-ok' ? 'succeed' : 'end'}.`;
}

/** `train.py and prep.sh, when they succeed`: what a queued job waits for, whatever holds it now (tooltips). */
export function runsAfterText(after: JobDependency, jobs: readonly Job[]): string {
  const lookup = lookupIn(jobs);
  const label = labeller(jobs);
  const names = after.jobs.map((id) => {
    const job = lookup(id);
    return job ? `${label(job)} (${job.state})` : `job ${id} (no longer in the history)`;
  });
  const when = after.mode === 'after-ok' ? (names.length === 1 ? 'when it succeeds' : 'when they all succeed') : names.length === 1 ? 'when it ends' : 'when they all end';
  return `${names.join(', ')}, ${when}`;
}

/** The reason a dependency-failed job shows. */
export function failedText(state: Extract<DependencyState, { kind: 'failed' }>, label: JobLabel): string {
  return state.dependency
    ? `Dependency failed: ${label(state.dependency)} ${state.dependency.dependencyFailed ? 'did not run (its own dependency failed)' : `ended ${state.dependency.state}`}.`
    : `Dependency failed: job ${state.id} is no longer in the history, so whether it succeeded is unknown.`;
}

/**
 * For a dispatch round: the waiting reason of each queued job whose dependencies have not ended yet,
 * undefined for one that may start. Undefined itself when no queued job has dependencies, so the
 * common queue pays nothing.
 */
export function dependencyHold(jobs: readonly Job[]): ((job: Job) => string | undefined) | undefined {
  if (!jobs.some((j) => j.state === 'queued' && j.after && j.after.jobs.length > 0)) {
    return undefined;
  }
  const lookup = lookupIn(jobs);
  const label = labeller(jobs);
  let stuck: Set<string> | undefined;
  return (job) => {
    const state = dependencyState(job, lookup);
    if (state.kind === 'waiting') {
      // Only a hand-edited or merged store gets a cycle past checkDependency; say so instead of waiting forever quietly.
      if ((stuck ??= blockedByCycle(jobs, lookup)).has(job.id)) {
        const cycle = findCycle(job.id, job.after!.jobs, lookup);
        return cycle
          ? `Waits for a dependency cycle (${cycle.map((id) => label(lookup(id)!)).join(' → ')}); none of these can start: Clear Dependencies on one of them.`
          : `Waits for ${state.on.map(label).join(', ')}, which can never start (a dependency cycle): Clear Dependencies on one of them.`;
      }
      return waitingText(job.after!.mode, state.on, label);
    }
    // A failed one is ended at the start of the next round; until then it must not start either.
    return state.kind === 'failed' ? failedText(state, label) : undefined;
  };
}

/**
 * Queued jobs that can never start because they are in a dependency cycle or wait on one: what is
 * left after peeling off (Kahn's algorithm) every queued job whose queued dependencies can all start.
 */
function blockedByCycle(jobs: readonly Job[], lookup: JobLookup): Set<string> {
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const job of jobs) {
    if (job.state !== 'queued') {
      continue;
    }
    const queuedDeps = (job.after?.jobs ?? []).filter((id) => lookup(id)?.state === 'queued');
    pending.set(job.id, queuedDeps.length);
    for (const id of queuedDeps) {
      dependents.set(id, [...(dependents.get(id) ?? []), job.id]);
    }
  }
  const free = [...pending].filter(([, n]) => n === 0).map(([id]) => id);
  while (free.length > 0) {
    const id = free.pop()!;
    pending.delete(id);
    for (const next of dependents.get(id) ?? []) {
      const left = pending.get(next)! - 1;
      pending.set(next, left);
      if (left === 0) {
        free.push(next);
      }
    }
  }
  return new Set(pending.keys());
}

/**
 * Ends every queued job whose `after-ok` dependency failed, as Cancelled with `dependencyFailed`;
 * repeats until nothing changes, so a chain is ended in one call. Returns the jobs it ended.
 */
export function settleDependents(jobs: readonly Job[], now: number): Job[] {
  const ended: Job[] = [];
  // Every round calls this: a queue without after-ok jobs must not pay for an index of the history.
  if (!jobs.some((j) => j.state === 'queued' && j.after?.mode === 'after-ok')) {
    return ended;
  }
  const lookup = lookupIn(jobs);
  const label = labeller(jobs);
  for (let changed = true; changed; ) {
    changed = false;
    for (const job of jobs) {
      if (job.state !== 'queued' || job.after?.mode !== 'after-ok') {
        continue;
      }
      const state = dependencyState(job, lookup);
      if (state.kind === 'failed') {
        finish(job, { state: 'cancelled', reason: failedText(state, label) }, now);
        job.dependencyFailed = state.id;
        ended.push(job);
        changed = true;
      }
    }
  }
  return ended;
}

/**
 * The jobs just removed from the history ended before (remove refuses others) and their dependents
 * were settled, so what is left waiting on them is satisfied: their ids are dropped from it.
 */
export function forgetRemoved(jobs: readonly Job[], removed: ReadonlySet<string>): void {
  for (const job of jobs) {
    if (job.state === 'queued' && job.after?.jobs.some((id) => removed.has(id))) {
      const left = job.after.jobs.filter((id) => !removed.has(id));
      if (left.length > 0) {
        job.after = { ...job.after, jobs: left };
      } else {
        delete job.after;
      }
    }
  }
}

/** A failed job retried by itself (trainq.retries): what waited for it waits for the retry instead. */
export function redirectDependents(jobs: readonly Job[], fromId: string, toId: string): void {
  for (const job of jobs) {
    if (job.state === 'queued' && job.after?.jobs.includes(fromId)) {
      job.after = { ...job.after, jobs: job.after.jobs.map((id) => (id === fromId ? toId : id)) };
    }
  }
}

/**
 * Refuses a dependency that could not be met or would never end: a bad mode, no jobs, a repeat, an
 * id not in the store, the job itself, or a cycle (`jobId` waiting, through others, for itself).
 * `jobId` is undefined for a job not queued yet, which nothing can wait for, so no cycle is possible.
 */
export function checkDependency(jobs: readonly Job[], after: JobDependency | undefined, jobId?: string): void {
  if (after === undefined) {
    return;
  }
  if (after.mode !== 'after' && after.mode !== 'after-ok') {
    throw new DependencyError(`A dependency's mode is 'after' or 'after-ok', not ${JSON.stringify(after.mode)}.`);
  }
  if (!Array.isArray(after.jobs) || after.jobs.length === 0) {
    throw new DependencyError('A dependency lists at least one job to wait for.');
  }
  if (new Set(after.jobs).size !== after.jobs.length) {
    throw new DependencyError('A dependency lists the same job twice.');
  }
  const lookup = lookupIn(jobs);
  for (const id of after.jobs) {
    if (id === jobId) {
      throw new DependencyError('A job cannot wait for itself.');
    }
    if (!lookup(id)) {
      throw new DependencyError(`Job ${JSON.stringify(id)} is not in the queue or the history, so nothing can wait for it.`);
    }
  }
  const cycle = jobId === undefined ? undefined : findCycle(jobId, after.jobs, lookup);
  if (cycle) {
    const label = labeller(jobs);
    const names = cycle.map((id) => label(lookup(id)!));
    throw new DependencyError(`That would make a cycle, so none of them could ever start: ${names.join(' → ')}.`);
  }
}

/** Sets (or with undefined clears) what a queued job waits for, after checkDependency; changes nothing when refused. */
export function setDependency(jobs: readonly Job[], job: Job, after: JobDependency | undefined): void {
  if (job.state !== 'queued') {
    throw new DependencyError(`${job.name} is ${job.state}; only a queued job can wait for others.`);
  }
  checkDependency(jobs, after, job.id);
  if (after) {
    job.after = { mode: after.mode, jobs: [...after.jobs] };
  } else {
    delete job.after;
  }
}

/**
 * The path jobId → … → jobId if `jobId` waited for `waitFor`, else undefined. Depth-first with an
 * explicit stack (a chain of thousands must not overflow the call stack); each job is visited once.
 */
export function findCycle(jobId: string, waitFor: readonly string[], lookup: JobLookup): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const stack: string[] = [];
  for (const id of waitFor) {
    if (!cameFrom.has(id)) {
      cameFrom.set(id, jobId);
      stack.push(id);
    }
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === jobId) {
      const path = [jobId];
      for (let at = cameFrom.get(jobId)!; at !== jobId; at = cameFrom.get(at)!) {
        path.push(at);
      }
      return [...path, jobId].reverse();
    }
    for (const next of lookup(id)?.after?.jobs ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, id);
        stack.push(next);
      }
    }
  }
  return undefined;
}

/**
 * The script header's `after=<name>`: each name resolves to the most recent queued or running job
 * with that display name; names that match none are returned for a warning, never guessed.
 */
export function resolveByName(jobs: readonly Job[], names: readonly string[]): { ids: string[]; unresolved: string[] } {
  const ids: string[] = [];
  const unresolved: string[] = [];
  for (const name of names) {
    let best: Job | undefined;
    for (const job of jobs) {
      if ((job.state === 'queued' || job.state === 'running') && job.name === name && (!best || job.createdAt >= best.createdAt)) {
        best = job;
      }
    }
    if (!best) {
      unresolved.push(name);
    } else if (!ids.includes(best.id)) {
      ids.push(best.id);
    }
  }
  return { ids, unresolved };
}

const MODES: ReadonlyArray<JobDependency['mode']> = ['after', 'after-ok'];

/**
 * A stored job's `after` and `dependencyFailed` (storeValidation.ts): a mode, and distinct ids other
 * than the job's own. An id of a job not in the store is kept: it means "ended, outcome unknown".
 */
export function checkStoredDependency(job: Record<string, unknown>, at: string): void {
  optional(job, at, 'after', (value, where) => {
    const after = record(value, where);
    oneOf(after.mode, MODES, `${where}.mode`);
    const ids = list(after.jobs, `${where}.jobs`).map((id, i) => filled(id, `${where}.jobs[${i}]`));
    if (ids.length === 0 || new Set(ids).size !== ids.length || ids.includes(job.id as string)) {
      fail(`${where}.jobs is not a list of distinct ids of other jobs`);
    }
  });
  optional(job, at, 'dependencyFailed', filled);
}
