/**
 * Jobs leaving the history (Remove, Clear Finished): which go, and what becomes of the queued jobs
 * that waited for them. Pure; the JobManager facade saves the result and deletes the jobs' files.
 */
import { forgetRemoved, settleDependents } from './dependencies';
import { isFinished, type Job } from './job';
import type { WorkspaceState } from './workspaceState';

/**
 * Takes the finished jobs `leaving` picks out of the state. Dependents are settled first, while the
 * outcome of what they wait for is still known (an `after-ok` job on a failed one ends "dependency
 * failed"); the queued ones left then stop waiting for the jobs removed, whose ends satisfied them.
 */
export function takeFromHistory(state: WorkspaceState, leaving: (job: Job) => boolean, now: number): Job[] {
  settleDependents(state.jobs, now);
  const gone = state.jobs.filter((j) => isFinished(j.state) && leaving(j));
  if (gone.length > 0) {
    const ids = new Set(gone.map((j) => j.id));
    state.jobs = state.jobs.filter((j) => !ids.has(j.id));
    forgetRemoved(state.jobs, ids);
  }
  return gone;
}
