/**
 * When TrainQ asks before a destructive job action, decided without the editor so that it is unit-tested
 * in plain Node (confirmations.ts asks). Only what loses something is asked about: a running job's work
 * (Cancel) and finished jobs' logs and history (Remove, Clear Finished). Cancelling a queued job loses
 * nothing, so it is never asked about; each question can be turned off in the settings.
 */
import { isFinished, type Job } from '../core/job';

export interface ConfirmSettings {
  /** trainq.confirm.cancel */
  confirmCancel: boolean;
  /** trainq.confirm.clearFinished */
  confirmClearFinished: boolean;
}

/** What to ask; `names` are the jobs concerned (at most a few are shown), `count` how many there are. */
export type Question =
  | { kind: 'cancelRunning'; names: string[]; count: number }
  | { kind: 'removeFinished'; names: string[]; count: number }
  | { kind: 'clearFinished'; count: number };

type JobLike = Pick<Job, 'name' | 'state'>;

const named = (jobs: readonly JobLike[]) => ({ names: jobs.map((j) => j.name), count: jobs.length });

/** Cancel: asked only when a running job is among `jobs` (queued ones lose no work). */
export function cancelQuestion(jobs: readonly JobLike[], settings: ConfirmSettings): Question | undefined {
  const running = jobs.filter((j) => j.state === 'running');
  return settings.confirmCancel && running.length > 0 ? { kind: 'cancelRunning', ...named(running) } : undefined;
}

/** Remove from History: asked for finished jobs (the manager refuses the others with its own message). */
export function removeQuestion(jobs: readonly JobLike[], settings: ConfirmSettings): Question | undefined {
  const finished = jobs.filter((j) => isFinished(j.state));
  return settings.confirmClearFinished && finished.length > 0 ? { kind: 'removeFinished', ...named(finished) } : undefined;
}

/** Clear Finished Jobs: nothing finished, nothing to ask (the command then says it removed none). */
export function clearQuestion(jobs: readonly JobLike[], settings: ConfirmSettings): Question | undefined {
  const count = jobs.filter((j) => isFinished(j.state)).length;
  return settings.confirmClearFinished && count > 0 ? { kind: 'clearFinished', count } : undefined;
}

/** The Delete key: queued and running jobs are cancelled, finished ones removed from the history. */
export function deleteActions<J extends JobLike>(jobs: readonly J[]): { cancel: J[]; remove: J[] } {
  return { cancel: jobs.filter((j) => !isFinished(j.state)), remove: jobs.filter((j) => isFinished(j.state)) };
}

/** "a.py", "a.py and b.py", "a.py, b.py and 3 more": a dialog names a few jobs, never a wall of them. */
export function jobList(names: readonly string[], more: (n: number) => string, and: string, shown = 3): string {
  if (names.length <= shown) {
    return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} ${and} ${names[names.length - 1]}`;
  }
  return `${names.slice(0, shown).join(', ')} ${and} ${more(names.length - shown)}`;
}
