/**
 * The job model shared by the store, the scheduler, the hosts and the views.
 * Plain data only (it is persisted as JSON), so every field is serialisable.
 */

import type { JobMetrics } from './metricsProtocol';

export type Priority = 'high' | 'medium' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'medium', 'low'];

export type Importance = 'low' | 'normal' | 'high';
export const IMPORTANCES: readonly Importance[] = ['low', 'normal', 'high'];

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';
export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'lost'];

/** What the user asked for when queueing a script. */
export interface JobSpec {
  /** Absolute path of the training script (`.py` runs with the interpreter, `.sh` with bash). */
  script: string;
  /** Arguments passed to the script as an argv array, never through a shell. */
  args: string[];
  /** Folder the job runs in (the script's workspace folder). */
  cwd: string;
  /** GPUs needed on one host; 0 for a CPU job. */
  gpus: number;
  importance: Importance;
  /** Expected gain in percent (0–100) of the metric the user cares about; undefined when not given. */
  expectedGain?: number;
  /** The user's runtime estimate in seconds. */
  runtimeSec: number;
  /** The job's own environment variables (a sweep's trial gets its id and parameters here). */
  env?: Record<string, string>;
  /** Set when the job is a trial of a sweep. */
  sweep?: TrialRef;
  /** Jobs this one waits for before it may be dispatched (issue 16: dependencies). */
  after?: JobDependency;
  /** Where the job may run (issue 16: host constraints); absent means any host. */
  constraints?: HostConstraints;
  /** A `.env` file (absolute path) whose variables the job gets beside `env`. */
  envFile?: string;
  /** The interpreter a `.py` script runs with, overriding `trainq.python` and the host's. */
  interpreter?: string;
  /** Globs (relative to the job's folder) copied back from a remote host when the job ends. */
  outputs?: string[];
}

/** `after`: the listed jobs ended (any state); `after-ok`: they all succeeded. */
export type DependencyMode = 'after' | 'after-ok';

export interface JobDependency {
  mode: DependencyMode;
  /** Ids of the jobs waited for. */
  jobs: string[];
}

/** Which hosts may take a job. Names and labels match host names and `labels` of `trainq.hosts`. */
export interface HostConstraints {
  /** Only these hosts (by name or label); absent or empty means any. */
  require?: string[];
  /** Never these hosts (by name or label). */
  exclude?: string[];
  /** A pattern the GPU model must contain, case-insensitive (e.g. `A100`). */
  gpuModel?: string;
  /** Minimum free memory per GPU, MiB. */
  minGpuMemMiB?: number;
}

/** A name a job's environment variable may have (checked for host settings, jobs and stored jobs alike). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Which sweep a trial job belongs to, and the hyper-parameters it runs with. */
export interface TrialRef {
  sweepId: string;
  /** 1-based trial number within the sweep. */
  trial: number;
  params: Record<string, string | number | boolean>;
}

export interface Job extends JobSpec {
  id: string;
  /** Display name: the script's file name. */
  name: string;
  priority: Priority;
  /** Why the job has its priority: the classifier's decision path, or "set by you". */
  priorityReason: string;
  /** True once the user overrode the classifier for this job. */
  priorityOverridden: boolean;
  /** Epoch ms of the user's last override; aging counts from here, so a job moved down stays down. */
  prioritySetAt?: number;
  state: JobState;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  /** Host the job was dispatched to. */
  host?: string;
  /** GPU indices the job holds on its host (what CUDA_VISIBLE_DEVICES was set to). */
  gpuIndices?: number[];
  /** How the job's host finds it again (a process group, a Slurm job id); set once it started. */
  handle?: JobHandle;
  exitCode?: number;
  /** Human-readable reason: why a queued job waits, why a job was lost or failed to start. */
  reason?: string;
  /** Id of the job this one retries, when it was created by Retry or by trainq.retries. */
  retryOf?: string;
  /** 1 for a first run, 2 for its first retry, …; absent means 1. */
  attempt?: number;
  /**
   * Why an early-stopping rule ended it: set when the stop is asked (so a reload in between still
   * records a stop, not a failure); the job then ends Cancelled and is shown "stopped early".
   */
  stoppedEarly?: string;
  /** What the job reported through the metrics protocol (metricsProtocol.ts). */
  metrics?: JobMetrics;
  /**
   * Bytes of the job's log and metrics file already read for reports, saved so a reload neither
   * loses nor repeats them; `final` once the job's files were read to the end after it ended.
   */
  metricsRead?: { log: number; file: number; final?: boolean };
  /**
   * Id of the `after-ok` dependency whose failure (or cancellation, loss, removal) ended this job
   * before it ran: the job is then Cancelled and shown "dependency failed" (core/dependencies.ts).
   */
  dependencyFailed?: string;
}

/** How a host finds a started job again (reattach, cancel); stored with the job as `job.handle`. */
export type JobHandle =
  /** A process group of the job's wrapper on the host (local and SSH hosts). */
  | { kind: 'process'; pgid: number }
  /** The id sbatch gave the job (digits). */
  | { kind: 'slurm'; jobId: string };

export function isFinished(state: JobState): boolean {
  return FINISHED_STATES.includes(state);
}

export function priorityLabel(p: Priority): string {
  return p === 'high' ? 'High' : p === 'medium' ? 'Medium' : 'Low';
}

/** The features the priority classifier sees. */
export interface JobFeatures {
  gpus: number;
  importance: Importance;
  /** Percent 0–100, undefined when the user gave none. */
  expectedGain?: number;
  runtimeSec: number;
}

export function featuresOf(spec: JobFeatures): JobFeatures {
  return { gpus: spec.gpus, importance: spec.importance, expectedGain: spec.expectedGain, runtimeSec: spec.runtimeSec };
}
