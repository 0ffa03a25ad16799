/**
 * Between jobs and the run-time model: what a job asks the model (its query), what an ended job tells
 * it (an observation), and the model a store opens with. The saved model is only a cache of what the
 * finished jobs say, so a store without one (older formats) or with a damaged one rebuilds it from its
 * history instead of losing either.
 */
import type { Job } from './job';
import type { Logger } from './logger';
import { relativeInside } from './pathInside';
import { RuntimeModel, type RunObservation, type RunQuery } from './runtimeModel';
import type { WorkspaceState } from './workspaceState';

/** A host's declared speed by name; undefined for a host that is not configured any more. */
export type DeclaredSpeedOf = (host: string) => number | undefined;

/**
 * The model knows scripts by their workspace-relative path, so history survives moving the workspace
 * and the simulator's script names match; a script outside its folder keeps its absolute path.
 */
export function runQueryOf(job: Pick<Job, 'script' | 'cwd' | 'args' | 'gpus' | 'runtimeSec'>): RunQuery {
  return { script: relativeInside(job.cwd, job.script) ?? job.script, args: job.args, gpus: job.gpus, estimateSec: job.runtimeSec };
}

/**
 * What an ended job tells the model, or undefined for one that never ran. Only a success says how
 * long the job takes; any other end says it takes at least as long as it ran (censored).
 */
export function observationOf(job: Job, declaredSpeedOf: DeclaredSpeedOf): RunObservation | undefined {
  if (job.startedAt === undefined || job.endedAt === undefined || job.host === undefined) {
    return undefined;
  }
  const runSec = (job.endedAt - job.startedAt) / 1000;
  if (!(runSec > 0)) {
    return undefined;
  }
  return {
    ...runQueryOf(job),
    host: job.host,
    declaredSpeed: declaredSpeedOf(job.host) ?? 1,
    runSec,
    censored: job.state !== 'succeeded',
    atMs: job.endedAt,
  };
}

/** Learns from every finished job in the order they ended, as if the model had watched them. */
export function rebuildModel(jobs: readonly Job[], declaredSpeedOf: DeclaredSpeedOf): RuntimeModel {
  const model = new RuntimeModel();
  const ended = jobs.filter((j) => j.endedAt !== undefined && j.state !== 'queued' && j.state !== 'running');
  ended.sort((a, b) => a.endedAt! - b.endedAt!);
  for (const job of ended) {
    const o = observationOf(job, declaredSpeedOf);
    if (o) {
      model.observe(o);
    }
  }
  return model;
}

/**
 * The saved model when it is usable; otherwise (none saved, or damaged: logged) the one the history
 * gives, with `rebuilt` set so the caller saves it.
 */
export function loadRuntimeModel(state: WorkspaceState, declaredSpeedOf: DeclaredSpeedOf, logger: Logger): { model: RuntimeModel; rebuilt: boolean } {
  if (state.runtimeModel !== undefined) {
    try {
      return { model: RuntimeModel.fromState(state.runtimeModel), rebuilt: false };
    } catch (e) {
      logger.warn(e instanceof Error ? e.message : `The run-time model's saved state is not usable (${String(e)}); it is rebuilt from the finished jobs.`);
    }
  }
  return { model: rebuildModel(state.jobs, declaredSpeedOf), rebuilt: true };
}
