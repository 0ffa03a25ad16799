/**
 * How a job changes state, as plain functions of the job and what happened to it: a dispatch that
 * claims it, a host's exit report, a reattach after a restart, a failed start, a retry. No I/O and no
 * clock of their own, so the dispatcher and the command facade apply the same rules, and the unit
 * tests check them without hosts.
 */
import type { Job, JobHandle, JobSpec, JobState } from './job';
import type { ExitReport, ReattachResult } from './host';

/** How a job ended: its final state, the exit code if one was recorded, and what the user is told. */
export interface Ending {
  state: JobState;
  exitCode?: number;
  reason?: string;
}

/**
 * Records the end. The caller tells a learning placement about the run time when `ranFor` says the
 * job really ran (a cancel says nothing about the host, only about the user, so it is left out).
 */
export function finish(job: Job, ending: Ending, now: number): { ranForSec?: number } {
  job.state = ending.state;
  job.exitCode = ending.exitCode;
  job.endedAt = now;
  job.reason = ending.reason;
  return ending.state !== 'cancelled' && job.startedAt !== undefined ? { ranForSec: Math.max(0, now - job.startedAt) / 1000 } : {};
}

/** What a host's exit report means for a job; `cancelled` when the user asked for the end. */
export function endingOfExit(report: ExitReport, cancelled: boolean, stoppedEarly?: string): Ending {
  // A stop asked before a reload is still a stop: the flag is saved, the in-memory cancel set is not.
  if (stoppedEarly !== undefined) {
    return { state: 'cancelled', exitCode: report.exitCode, reason: `Stopped early: ${stoppedEarly}` };
  }
  if (cancelled) {
    return { state: 'cancelled', exitCode: report.exitCode, reason: 'Cancelled by you.' };
  }
  if (report.exitCode === undefined) {
    return { state: 'lost', reason: report.reason ?? 'The process ended without recording an exit code (killed from outside TrainQ?).' };
  }
  // A host may say why a job with an exit code failed (Slurm: "Slurm time limit").
  return { state: report.exitCode === 0 ? 'succeeded' : 'failed', exitCode: report.exitCode, reason: report.reason };
}

/** What a reattach after a restart means for a running job; undefined while it still runs. */
export function endingOfReattach(result: ReattachResult): Ending | undefined {
  switch (result.kind) {
    case 'running':
      return undefined;
    case 'exited':
      return { state: result.exitCode === 0 ? 'succeeded' : 'failed', exitCode: result.exitCode, reason: result.reason };
    case 'lost':
      return { state: 'lost', reason: result.reason };
  }
}

/**
 * Recorded as running before anything starts: a crash in between leaves a job that reconcile marks
 * Lost, which is visible, instead of a queued job that would run a second time.
 */
export function claim(job: Job, host: string, gpuIndices: number[], now: number): void {
  Object.assign(job, { state: 'running', host, gpuIndices, startedAt: now, reason: undefined });
}

export function started(job: Job, handle: JobHandle): void {
  job.handle = handle;
}

/** The host is the problem, not the job: it goes back to its queue as if it had never been claimed. */
export function requeue(job: Job, reason: string): void {
  Object.assign(job, { state: 'queued', host: undefined, gpuIndices: undefined, startedAt: undefined, handle: undefined, reason });
}

/** It never ran: no start time or GPUs, so the views and Open Log say so rather than "ran for 0:00". */
export function neverStarted(job: Job, message: string, now: number): void {
  Object.assign(job, { startedAt: undefined, gpuIndices: undefined });
  finish(job, { state: 'failed', reason: `Could not start: ${message}` }, now);
}

/** The spec a retry of `old` is queued with. */
export function specOf(old: Job): JobSpec {
  const { script, args, cwd, gpus, importance, expectedGain, runtimeSec, env, sweep, envFile, interpreter, constraints, outputs } = old;
  return {
    ...{ script, args: [...args], cwd, gpus, importance, expectedGain, runtimeSec },
    ...(env && { env: { ...env } }),
    ...(sweep && { sweep }),
    // The retry runs in the same environment: its .env file (read again when it starts) and interpreter.
    ...(envFile !== undefined && { envFile }),
    ...(interpreter !== undefined && { interpreter }),
    // Where it may run and what comes back are part of what was asked; its dependencies already ended.
    ...(constraints && { constraints: structuredClone(constraints) }),
    ...(outputs && { outputs: [...outputs] }),
  };
}

/** Makes a freshly created job the retry of `old`; a priority the user set by hand carries over. */
export function markRetryOf(copy: Job, old: Job): void {
  copy.retryOf = old.id;
  copy.attempt = (old.attempt ?? 1) + 1;
  if (old.priorityOverridden) {
    Object.assign(copy, { priority: old.priority, priorityReason: old.priorityReason, priorityOverridden: true });
  }
}

/**
 * trainq.retries: a job that ran and failed, or was lost (its host vanished), goes back to the queue,
 * on any host, until it has run 1 + retries times. Jobs that could not start are not retried: the
 * cause (a missing interpreter, say) would fail the copy too.
 */
export function retriesAutomatically(job: Job, retries: number): boolean {
  return (job.state === 'failed' || job.state === 'lost') && job.startedAt !== undefined && (job.attempt ?? 1) <= retries;
}

/** How a log line names a started job's handle; the one place core tells a process from a Slurm job. */
export function handleText(handle: JobHandle): string {
  return handle.kind === 'slurm' ? `Slurm job ${handle.jobId}` : `pgid ${handle.pgid}`;
}
