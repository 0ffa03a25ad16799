/**
 * One sweep of the sweep benchmark through TrainQ's real machinery, with no VS Code: a JobManager
 * with a real LocalHost (each trial a real process), the MetricsFollower reading the trials' logs and
 * the SweepManager proposing and stopping trials. The budget is counted as the benchmark counts it
 * for Optuna: training epochs, i.e. reports of the sweep metric, in the order they arrived; the
 * sweep is stopped once the budget is used, and reports past it do not count.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { JobManager } from '../core/jobManager';
import { silentLogger } from '../core/logger';
import { MetricsFollower, type MetricsUpdate } from '../core/metricsFollower';
import { MostFreeGpusPlacement } from '../core/placement';
import { PriorityClassifier } from '../core/priorityClassifier';
import { SweepManager } from '../core/sweep/sweepManager';
import type { SweepSpec } from '../core/sweep/sweepTypes';
import { emptyWorkspaceState } from '../core/workspaceState';
import { LocalHost } from '../hosts/local/localHost';

export interface SweepRunResult {
  /** Best metric value among the first `budget` epoch reports. */
  best: number | undefined;
  /** [epochs used, best so far] after each report that counted. */
  curve: Array<[number, number]>;
  trials: number;
  wallSec: number;
  /** Proposal time of each trial, ms (strategy only). */
  proposeMs: number[];
  /** Hyper-parameters of the trial that reported `best` (for re-evaluating it with fresh seeds). */
  bestParams?: Record<string, string | number | boolean>;
}

export interface SweepRunOptions {
  spec: SweepSpec;
  budgetEpochs: number;
  python: string;
  /** How often trial logs are read, ms: well below an epoch, so the stopping rule acts in time. */
  pollMs?: number;
}

export async function runSweepOnce(opts: SweepRunOptions): Promise<SweepRunResult> {
  const { spec, budgetEpochs } = opts;
  const started = Date.now();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-sweep-bench-'));
  const host = new LocalHost({
    jobsRoot: path.join(root, 'jobs'),
    maxJobs: spec.parallel,
    nvidiaSmi: '/nonexistent/nvidia-smi',
    logger: silentLogger,
    sweepGraceSec: 1,
    resolvePython: async () => opts.python,
  });
  const manager = new JobManager({
    persistence: { save: async () => undefined },
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 2, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  const follower = new MetricsFollower({ jobs: () => manager.jobs, host: (n) => manager.host(n), save: () => manager.update(() => undefined) });
  const sweeps = new SweepManager({ jobs: manager, onDidReport: follower.onDidReport, newId: randomUUID });

  const curve: Array<[number, number]> = [];
  let best: number | undefined;
  let bestParams: SweepRunResult['bestParams'];
  const seen = new Map<string, number>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let sweepId = '';
  const count = (updates: MetricsUpdate[]) => {
    for (const { job } of updates) {
      const series = job.metrics?.series[spec.metric] ?? [];
      const already = seen.get(job.id) ?? 0;
      for (const point of series.slice(already)) {
        if (curve.length >= budgetEpochs) {
          break;
        }
        if (best === undefined || (spec.goal === 'max' ? point.value > best : point.value < best)) {
          best = point.value;
          bestParams = job.sweep?.params;
        }
        curve.push([curve.length + 1, best]);
      }
      seen.set(job.id, series.length);
    }
    if (curve.length >= budgetEpochs && sweepId) {
      void sweeps.stop(sweepId).catch(() => undefined);
    }
  };
  const sub = follower.onDidReport(count);
  const watch = sweeps.onDidChange(() => {
    const s = sweeps.sweep(sweepId);
    if (s && (s.status === 'stopped' || s.status === 'finished') && !s.trials.some((t) => t.state === 'queued' || t.state === 'running')) {
      done();
    }
  });
  try {
    follower.start(opts.pollMs ?? 25);
    sweepId = (await sweeps.start(spec)).id;
    await finished;
    await follower.poll();
    const record = sweeps.sweep(sweepId)!;
    return { best, bestParams, curve, trials: record.trials.length, wallSec: (Date.now() - started) / 1000, proposeMs: [] };
  } finally {
    sub.dispose();
    watch.dispose();
    follower.dispose();
    sweeps.dispose();
    manager.dispose();
    host.dispose();
    await fs.rm(root, { recursive: true, force: true });
  }
}
