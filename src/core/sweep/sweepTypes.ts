/**
 * The vocabulary of hyper-parameter sweeps, shared by the definition parser, the search strategies,
 * the early-stopping rules, the sweep manager and the simulator-free benchmark. Plain data only: a
 * sweep and its trials are persisted with the store as JSON.
 */
import type { HostConstraints, Importance } from '../job';

export type ParamValue = string | number | boolean;
/** One trial's hyper-parameters, by parameter name. */
export type Params = Record<string, ParamValue>;

interface ParamBase {
  /** Name used in the environment (TRAINQ_PARAM_<NAME>), the view and explanations. */
  name: string;
  /**
   * How the value reaches the script: a flag (`--lr`, the default is `--<name>`) followed by the value
   * as its own argument, or a template holding `{}` (`--lr={}`) that becomes one argument.
   */
  arg?: string;
}

export interface ChoiceParam extends ParamBase {
  kind: 'choice';
  values: ParamValue[];
}

export interface IntParam extends ParamBase {
  kind: 'int';
  min: number;
  max: number;
  /** Sampled uniformly in log space (min must then be > 0). */
  log?: boolean;
}

export interface FloatParam extends ParamBase {
  kind: 'float';
  min: number;
  max: number;
  log?: boolean;
}

export type ParamSpec = ChoiceParam | IntParam | FloatParam;

export type Goal = 'min' | 'max';

export type EarlyStoppingSpec =
  | { rule: 'off' }
  /**
   * Vizier's median rule: at a step ≥ graceSteps, stop a trial whose best value so far is worse than
   * the median of the other finished trials' values at that step (once minTrials others reached it).
   */
  | { rule: 'median'; graceSteps: number; minTrials: number }
  /**
   * Asynchronous successive halving: rungs at minSteps·reduction^k (up to maxSteps); a trial that
   * reaches a rung continues only when it is in the top 1/reduction of the trials that reached it.
   */
  | { rule: 'asha'; minSteps: number; reduction: number; maxSteps: number };

export type StrategyName = 'grid' | 'random' | 'qlearning' | 'adaptive';
export const STRATEGY_NAMES: readonly StrategyName[] = ['grid', 'random', 'qlearning', 'adaptive'];

export interface SweepBudget {
  /** Most trials started over the sweep's life. */
  trials?: number;
  /** Most GPU-hours the trials may use (GPUs × run time, counted as they run). */
  gpuHours?: number;
}

/** A validated sweep definition: what the user wrote, with defaults filled in. */
export interface SweepSpec {
  /** Display name; defaults to the script's file name. */
  name: string;
  /** Absolute path of the training script. */
  script: string;
  cwd: string;
  /** Arguments every trial gets, before the parameters' own. */
  fixedArgs: string[];
  params: ParamSpec[];
  /** The metric the sweep optimises, as the script reports it (`trainq:metric val_acc=0.93`). */
  metric: string;
  goal: Goal;
  budget: SweepBudget;
  /** Most trials queued or running at once. */
  parallel: number;
  earlyStopping: EarlyStoppingSpec;
  strategy: StrategyName;
  /** Makes the strategy's proposals reproducible. */
  seed: number;
  /** As for a job: GPUs per trial, importance, expected gain, run-time estimate per trial. */
  gpus: number;
  importance: Importance;
  expectedGain?: number;
  runtimeSec: number;
  /** As for a job: the hosts its trials may run on, and what comes back from a remote host when one ends. */
  constraints?: HostConstraints;
  outputs?: string[];
}

export type { MetricPoint } from '../metricPoint';
import type { MetricPoint } from '../metricPoint';

export type TrialState = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped' | 'cancelled';

/** What a strategy and a stopping rule know of one trial. */
export interface TrialRecord {
  /** 1-based, in proposal order. */
  trial: number;
  params: Params;
  state: TrialState;
  /** The sweep metric's reports, in step order. */
  curve: MetricPoint[];
}

/** A strategy's next trial and, in words, why these values. */
export interface Proposal {
  params: Params;
  why: string;
}

/**
 * Every search strategy: given the sweep so far (finished, stopped and still running trials), the next
 * trial's parameters, or undefined when it has nothing new to try (a grid that is used up). A strategy
 * keeps no state of its own between calls: its randomness comes from (seed, trials so far), and what
 * it learned is rebuilt from the history, so a reloaded sweep resumes exactly where it was.
 */
export interface SearchStrategy {
  readonly name: StrategyName;
  propose(history: readonly TrialRecord[]): Proposal | undefined;
}

/** An early-stopping rule's verdict for one trial after a new report. */
export interface StopDecision {
  stop: boolean;
  /** Why, in words, for the trial's reason ("val_loss 0.41 at step 6 is worse than the median 0.33 of 5 trials"). */
  why: string;
}
