/**
 * What a benchmark policy is, apart from the table of named policies (policies.ts): the simulator,
 * the placement hooks and the DQN policy need these types, and policies.ts needs them, so they live
 * below all four and no file imports back up.
 */
import type { Placement } from '../core/placement';
import type { Cluster } from './clusterLoader';
import type { QueueDiscipline } from './queueDisciplines';

/** What the simulator tells a policy as the run goes: the feedback a learning placement trains on. */
export type SimEvent =
  | { kind: 'submit'; atSec: number; job: number }
  | { kind: 'start'; atSec: number; job: number; host: string; gpuIndices: number[] }
  /** runSec: how long the job ran on its host, its true run time there (a Slurm host's queue wait excluded). */
  | { kind: 'finish'; atSec: number; job: number; host: string; gpuIndices: number[]; runSec: number };

/**
 * How well a learning policy predicted run times over a run (|ln(predicted ÷ true)| per prediction):
 * its median and 90th percentile, and the share of predictions made with nothing learnt of the identity yet.
 */
export interface PredictionReport {
  medianAbsLogError: number;
  p90AbsLogError: number;
  coldStartShare: number;
  predictions: number;
  /** The same median over jobs whose identity had run at least 5 times before (absent when none had). */
  afterFiveRunsMedianAbsLogError?: number;
}

export interface PolicyContext {
  seed: number;
  /** Aging period of the priority queues, in ms of simulated time (0 turns aging off). */
  agingMs: number;
  cluster: Cluster;
}

/** One run's worth of a policy: created fresh per run, so state (an RNG, a learner) never leaks between runs. */
export interface PolicyInstance {
  discipline: QueueDiscipline;
  placement: Placement;
  /** Training steps taken so far, for a placement that learns while it runs; heuristics leave it out. */
  trainSteps?(): number;
  /** Milliseconds those steps took (training only, not deciding or simulating). */
  trainMs?(): number;
  /** Sees every submission, start and finish: the feedback (rewards) a learning placement trains on. */
  onEvent?(event: SimEvent): void;
  /** A policy that predicts run times says how well it did, once the run is over; the bench report carries it. */
  predictionReport?(): PredictionReport | undefined;
  /** Frees what the run held (a model's tensors, say); called once the run is over. */
  dispose?(): void;
}
