/**
 * Starting the jobs a dispatch round planned: the I/O half of a round. Each start ends in one of four
 * outcomes, and the caller (JobManager) turns the outcome into the job's new state, so what a failure
 * means for the job is decided in one place.
 */
import { assertNoNul } from './argv';
import type { PlannedLaunch } from './scheduler';
import { isFencedError } from './dispatchFence';
import { groupByHost } from './hostRoster';
import type { Host, LaunchRequest, LaunchResult } from './host';
import { isHostUnreachableError } from './hostErrors';
import { launchEnvironment } from './jobEnvironment';
import { runQueryOf } from './runtimeHistory';
import type { RuntimeModel } from './runtimeModel';

/** What the launch path asks of the run-time model: a prediction on the chosen host. */
export type LaunchPredictor = Pick<RuntimeModel, 'predictOn'>;

export type LaunchOutcome =
  /** Running: the host's answer (a process group, or a Slurm job id). */
  | { kind: 'started'; result: LaunchResult }
  /** The host could not be reached and the job surely did not start: it goes back to the queue. */
  | { kind: 'unreachable'; message: string }
  /** The connection broke during the start, which may have reached the host: the host follows it. */
  | { kind: 'uncertain'; message: string }
  /** It never ran (no interpreter, a bad argument): the job fails with the message. */
  | { kind: 'failed'; message: string }
  /** Not started because another window took over the queue: the job is that window's now, untouched here. */
  | { kind: 'fenced'; message: string };

export async function launchOne(
  { job, gpuIndices }: PlannedLaunch,
  host: Host,
  /** Throws FencedError if this window lost the dispatch lock; checked as the last step before the host starts anything. */
  assertCurrent: () => void = () => undefined,
  /** The learned model: the request carries the job's predicted p80 on this host (a Slurm time limit). */
  model?: LaunchPredictor,
): Promise<LaunchOutcome> {
  try {
    // Input refuses NUL, but a job saved before it did would get spawn's "must be a string without
    // null bytes" (or a remote shell's cut-off word); the arguments are checked first for their numbering.
    assertNoNul(job.args);
    assertNoNul([job.script], () => 'The script path');
    assertNoNul([job.cwd], () => 'The working folder');
    assertCurrent();
    // The job's .env file (read now, see jobEnvironment.ts) and own variables; hosts add
    // CUDA_VISIBLE_DEVICES, TRAINQ_JOB_ID and TRAINQ_METRICS_FILE.
    const env = await launchEnvironment(job);
    const request: LaunchRequest = { job, script: job.script, args: job.args, cwd: job.cwd, gpuIndices, env, assertCurrent };
    const predicted = model?.predictOn(runQueryOf(job), [{ name: host.name, declaredSpeed: host.speed }])[0];
    if (predicted && Number.isFinite(predicted.p80Sec) && predicted.p80Sec > 0) {
      request.predictedP80Sec = predicted.p80Sec;
    }
    return { kind: 'started', result: await host.launch(request) };
  } catch (e) {
    if (isFencedError(e)) {
      return { kind: 'fenced', message: e.message };
    }
    const message = e instanceof Error ? e.message : String(e);
    if (isHostUnreachableError(e)) {
      return e.mayHaveStarted ? { kind: 'uncertain', message } : { kind: 'unreachable', message };
    }
    return { kind: 'failed', message };
  }
}

/**
 * Runs `start` for every launch: hosts in parallel (a remote start may sync a project first), one
 * host's jobs one after another so its connection is not flooded.
 */
export async function launchByHost(launches: readonly PlannedLaunch[], start: (launch: PlannedLaunch) => Promise<void>): Promise<void> {
  await Promise.all(
    [...groupByHost(launches).values()].map(async (list) => {
      for (const launch of list) {
        await start(launch);
      }
    }),
  );
}
