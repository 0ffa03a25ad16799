/**
 * What the benchmark reports for one policy run. Definitions (the JSON contract):
 *   JCT        completion − submission, in seconds
 *   slowdown   JCT ÷ the job's run time on the fastest host it fits on (≥ 1; 1 means no wait, best host)
 *   makespan   last completion − first submission
 *   gpuUtil    GPU-seconds busy ÷ (total GPUs × makespan)
 *   p95        nearest rank: the smallest JCT that at least 95% of jobs do not exceed
 *   trainStepsPerSec  gradient steps (batch 64) per second spent training, for a policy that learns
 *              while it runs (0 otherwise): the learner's speed, apart from deciding and simulating
 *   prediction only for a policy that predicts run times: how far its predictions were from the truth
 *              (policyTypes.ts, PredictionReport)
 */
import type { Cluster } from './clusterLoader';
import { totalGpus } from './clusterLoader';
import type { PredictionReport } from './policyTypes';
import type { SimJobSpec } from './simJobs';
import type { SimRun } from './simulator';

export interface PolicyMetrics {
  avgJct: number;
  p95Jct: number;
  avgSlowdown: number;
  makespan: number;
  gpuUtil: number;
  decisionP50Us: number;
  trainStepsPerSec: number;
  prediction?: PredictionReport;
}

/** Nearest-rank percentile, p in (0, 100]; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    return NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** The mean JCT if every job started at submission on the fastest host it fits on: no schedule beats it. */
export function lowerBoundAvgJct(specs: readonly SimJobSpec[]): number {
  return mean(specs.map((s) => s.fastestSec));
}

export function busyGpuSeconds(specs: readonly SimJobSpec[], run: SimRun): number {
  return specs.reduce((sum, s) => sum + s.gpus * (run.outcomes[s.index].endSec - run.outcomes[s.index].startSec), 0);
}

export function policyMetrics(specs: readonly SimJobSpec[], cluster: Cluster, run: SimRun): PolicyMetrics {
  const jcts = specs.map((s) => run.outcomes[s.index].endSec - s.submitSec);
  const firstSubmit = specs.reduce((m, s) => Math.min(m, s.submitSec), Infinity);
  const lastEnd = run.outcomes.reduce((m, o) => Math.max(m, o.endSec), -Infinity);
  const makespan = lastEnd - firstSubmit;
  return {
    avgJct: mean(jcts),
    p95Jct: percentile(jcts, 95),
    avgSlowdown: mean(specs.map((s, i) => jcts[i] / s.fastestSec)),
    makespan,
    gpuUtil: busyGpuSeconds(specs, run) / (totalGpus(cluster) * makespan),
    decisionP50Us: percentile(run.decisionUs, 50),
    trainStepsPerSec: run.trainMs > 0 ? run.trainSteps / (run.trainMs / 1000) : 0,
  };
}
