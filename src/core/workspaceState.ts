/**
 * Everything TrainQ persists per workspace, in one document so that one atomic
 * write keeps the queue, the history and what the classifier learned consistent.
 */
import type { Importance, Job, JobFeatures, Priority } from './job';
import type { RuntimeModelState } from './runtimeModel';
import type { SweepRecord } from './sweep/sweepRecord';

/** A labelled example from the user re-prioritising a job; the classifier retrains on these. */
export interface PriorityExample {
  features: JobFeatures;
  label: Priority;
  /** Epoch ms when the user made the choice. */
  at: number;
}

/** The values last used for a script, to prefill the queue input next time. */
export interface LastInputs {
  args: string[];
  gpus: number;
  importance: Importance;
  expectedGain?: number;
  runtimeSec: number;
}

export interface WorkspaceState {
  jobs: Job[];
  priorityExamples: PriorityExample[];
  /** Keyed by the script's workspace-relative path. */
  lastInputs: Record<string, LastInputs>;
  /** Dispatching paused by the user (running jobs continue). */
  paused: boolean;
  /**
   * What the run-time model learned from finished jobs. Absent in older stores and checked only when
   * the model is built from it: a damaged one is dropped and rebuilt from the jobs, never costing the queue.
   */
  runtimeModel?: RuntimeModelState;
  /** Hyper-parameter sweeps and their trials' records; absent in older stores. */
  sweeps?: SweepRecord[];
}

export function emptyWorkspaceState(): WorkspaceState {
  return { jobs: [], priorityExamples: [], lastInputs: {}, paused: false };
}
