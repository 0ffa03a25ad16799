/**
 * The multi-level queue: which queued job goes first, and how the Job Queue view groups jobs.
 * Pure functions of the job list and the clock, so the view, the scheduler and the simulator agree.
 */
import { isFinished, type Job, type Priority } from './job';

export interface QueuedEntry {
  job: Job;
  /** The priority the job is dispatched at: its own, raised by aging. */
  effective: Priority;
  /** Levels gained by waiting (0 when not aged). */
  promotedLevels: number;
  /** The run time the within-level tie-break uses, set by reorder (once per round, not per comparison). */
  runSec?: number;
}

/** A job's expected run time for ordering; the product passes the learned model's prediction. */
export type RunSecOf = (job: Job) => number;

const estimateOf: RunSecOf = (job) => job.runtimeSec;

/** Rank → priority, High first. */
const BY_RANK: readonly Priority[] = ['high', 'medium', 'low'];

/**
 * A job that has waited longer than `agingMs` moves up one level, and one more for each further
 * `agingMs`, so a Low job reaches High after two periods and nothing starves behind a busy High queue.
 * `agingMs` ≤ 0 turns aging off. The clock restarts when the user sets the priority by hand.
 */
export function effectivePriority(job: Job, now: number, agingMs: number): QueuedEntry {
  return age({ job, effective: job.priority, promotedLevels: 0 }, now, agingMs);
}

function age(entry: QueuedEntry, now: number, agingMs: number): QueuedEntry {
  const { job } = entry;
  const own = rankOf(job.priority);
  const levels = agingMs > 0 ? Math.max(0, Math.floor((now - (job.prioritySetAt ?? job.createdAt)) / agingMs)) : 0;
  const rank = Math.max(0, own - levels);
  entry.effective = BY_RANK[rank];
  entry.promotedLevels = own - rank;
  return entry;
}

/**
 * Queued jobs in dispatch order: higher effective priority first, then shortest expected run time
 * (`runSecOf`, the user's estimate by default), then oldest.
 */
export function dispatchOrder(jobs: readonly Job[], now: number, agingMs: number, runSecOf: RunSecOf = estimateOf): QueuedEntry[] {
  return reorder(
    jobs.filter((j) => j.state === 'queued').map((job) => ({ job, effective: job.priority, promotedLevels: 0 })),
    now,
    agingMs,
    runSecOf,
  );
}

/**
 * dispatchOrder for a caller that keeps its entries between rounds (the simulator): ages them to
 * `now` and sorts them in place. Array sort is a merge sort that runs in near-linear time on input
 * still in the order of the previous round, so a long queue no longer costs a full sort per round.
 */
export function reorder(entries: QueuedEntry[], now: number, agingMs: number, runSecOf: RunSecOf = estimateOf): QueuedEntry[] {
  for (const entry of entries) {
    age(entry, now, agingMs);
    // Computed once per entry: a prediction costs far more than a comparison, and a sort makes n log n of those.
    entry.runSec = runSecOf(entry.job);
  }
  return entries.sort(compareEntries);
}

function compareEntries(a: QueuedEntry, b: QueuedEntry): number {
  return (
    rankOf(a.effective) - rankOf(b.effective) ||
    (a.runSec ?? a.job.runtimeSec) - (b.runSec ?? b.job.runtimeSec) ||
    a.job.createdAt - b.job.createdAt ||
    // The last tie-break only has to be total and stable; code-unit order is that, and cheap.
    (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0)
  );
}

/** RANK as comparisons with the three constants: faster than a keyed lookup in a sort's inner loop. */
function rankOf(p: Priority): number {
  return p === 'high' ? 0 : p === 'medium' ? 1 : 2;
}

export interface QueueGroups {
  queued: Record<Priority, QueuedEntry[]>;
  running: Job[];
  /** Newest first, at most `finishedCap`. */
  finished: Job[];
  /** All finished jobs, including those past the cap. */
  finishedTotal: number;
}

export function groupJobs(jobs: readonly Job[], now: number, agingMs: number, finishedCap: number, runSecOf: RunSecOf = estimateOf): QueueGroups {
  const queued: Record<Priority, QueuedEntry[]> = { high: [], medium: [], low: [] };
  for (const entry of dispatchOrder(jobs, now, agingMs, runSecOf)) {
    queued[entry.effective].push(entry);
  }
  const running = jobs.filter((j) => j.state === 'running').sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  const finishedAll = jobs.filter((j) => isFinished(j.state));
  finishedAll.sort((a, b) => (b.endedAt ?? b.createdAt) - (a.endedAt ?? a.createdAt));
  return { queued, running, finished: finishedAll.slice(0, Math.max(0, finishedCap)), finishedTotal: finishedAll.length };
}
