/**
 * Between jobs and the run-time model: what a job asks the model (its query), what an ended job tells
 * it (an observation), and the model a store opens with. The saved model is only a cache of what the
 * finished jobs say, so a store without one (older formats) or with a damaged one rebuilds it from its
 * history instead of losing either.
 */
import { featuresOf, type Job, type JobFeatures, type JobSpec } from './job';
import { MAX_RUNTIME_SEC, MIN_RUNTIME_SEC, validateFeatures } from './features';
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

/**
 * Each queued job's predicted run time on a speed-1.0 host, kept until the model learns: every round
 * and Job Queue refresh asks it for every queued job (5,000 queued: 16.9 ms an order with a
 * prediction each time, 1.2 ms kept).
 */
export class BasePredictions {
  private model?: RuntimeModel;
  private observed = -1;
  private byJob = new Map<string, number>();

  of(model: RuntimeModel, job: Job): number {
    if (this.model !== model || this.observed !== model.observed) {
      this.model = model;
      this.observed = model.observed;
      this.byJob = new Map();
    }
    let sec = this.byJob.get(job.id);
    if (sec === undefined) {
      sec = model.predictBase(runQueryOf(job)).medianSec;
      this.byJob.set(job.id, sec);
    }
    return sec;
  }
}

/**
 * The classifier's runtime feature is the learned median once the script has history: the user's
 * estimate for a script that ran before is a worse guess than what it took. What the user typed is
 * checked as typed, whatever replaces it.
 */
export function classifierFeaturesOf(spec: JobSpec, model: RuntimeModel): JobFeatures {
  const features = featuresOf(spec);
  validateFeatures(features);
  const p = model.predictBase(runQueryOf(spec));
  // A learned time outside the classifier's range (a 3-second script) is its nearest bound: the tree
  // only compares, and a job must never become unqueueable because it ran fast (found in e2e).
  const learned = Math.min(MAX_RUNTIME_SEC, Math.max(MIN_RUNTIME_SEC, Math.round(p.medianSec)));
  return p.scriptRuns > 0 ? { ...features, runtimeSec: learned } : features;
}

/**
 * The JobManager's learned run times: the model the state opened with, fed each started job that
 * ended, and written back into the state only when it learned since the last save (serialising it on
 * every commit would be wasted work).
 */
export class RuntimeLearning {
  private current: RuntimeModel;
  private changed: boolean;
  private readonly base = new BasePredictions();

  constructor(state: WorkspaceState, private readonly declaredSpeedOf: DeclaredSpeedOf, private readonly logger: Logger) {
    const loaded = loadRuntimeModel(state, declaredSpeedOf, logger);
    this.current = loaded.model;
    this.changed = loaded.rebuilt;
  }

  get model(): RuntimeModel {
    return this.current;
  }

  /** A job's predicted run time on a speed-1.0 host (its estimate until the script has history). */
  baseSec(job: Job): number {
    return this.base.of(this.current, job);
  }

  features(spec: JobSpec): JobFeatures {
    return classifierFeaturesOf(spec, this.current);
  }

  /** An ended job that had started: one observation, saved with the next commit. */
  learn(job: Job): void {
    const o = observationOf(job, this.declaredSpeedOf);
    if (o) {
      this.current.observe(o);
      this.changed = true;
    }
  }

  /** A read-only window adopts another's state; it saves nothing, so a rebuilt model is only kept in memory. */
  adopt(state: WorkspaceState): void {
    this.current = loadRuntimeModel(state, this.declaredSpeedOf, this.logger).model;
    this.changed = false;
  }

  saveInto(state: WorkspaceState): void {
    if (this.changed) {
      state.runtimeModel = this.current.toState();
      this.changed = false;
    }
  }
}
