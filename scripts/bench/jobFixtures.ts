/**
 * A deterministic, realistic workspace state for benchmarks: months of history (mostly finished
 * jobs), a queue spread over the three priorities with some jobs old enough to have aged, a few
 * running jobs, learned priority examples and last inputs per script.
 */
import type { Importance, Job, JobState, Priority } from '../../src/core/job';
import type { LastInputs, PriorityExample, WorkspaceState } from '../../src/core/workspaceState';
import { createRng } from '../../src/sim/rng';

export interface BenchStateOptions {
  jobs: number;
  /** Epoch ms the history ends at. */
  now: number;
  running?: number;
  queued?: number;
  paused?: boolean;
}

const ROOT = '/home/mara/projects/vision-lab';
const SCRIPTS = [
  'train.py',
  'train_resnet.py',
  'experiments/train_vit.py',
  'experiments/train_vit_distill.py',
  'experiments/ablations/train_no_aug.py',
  'nlp/train_tokenizer.py',
  'nlp/train_lm.py',
  'nlp/finetune/train_lora.py',
  'rl/train_ppo.py',
  'rl/train_sac.py',
  'scripts/train_sweep.sh',
  'scripts/multi_node_train.sh',
  'scripts/pretrain_then_train.sh',
  'segmentation/train_unet.py',
  'detection/train_detr.py',
];
const OPTIMISERS = ['adamw', 'sgd', 'lion'];
const REASONS: Record<Priority, string[]> = {
  high: ['importance = high and gpus ≤ 2', 'expected gain ≥ 5% and runtime ≤ 2h'],
  medium: ['importance = normal and gpus < 4', 'importance = high and gpus > 2'],
  low: ['importance = low', 'runtime > 12h and expected gain < 1%'],
};
const FAILURES = [
  'CUDA out of memory. Tried to allocate 2.00 GiB',
  'Could not start: Interpreter \'python3\' was not found on PATH',
  'The process ended while VS Code was closed without recording an exit code',
];


export function benchState(opts: BenchStateOptions): WorkspaceState {
  const rnd = createRng(20240611, 'test').next;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
  const runningCount = opts.running ?? 12;
  const queuedCount = opts.queued ?? 240;
  const finishedCount = opts.jobs - runningCount - queuedCount;
  const historyMs = 120 * 24 * 3600_000;

  const makeJob = (state: JobState, createdAt: number): Job => {
    const script = pick(SCRIPTS);
    const importance = pick<Importance>(['low', 'normal', 'normal', 'normal', 'high']);
    const priority = pick<Priority>(['high', 'medium', 'medium', 'low']);
    const gpus = pick([0, 1, 1, 1, 2, 2, 4, 8]);
    const overridden = rnd() < 0.05;
    const job: Job = {
      id: uuid(),
      name: script.split('/').pop()!,
      script: `${ROOT}/${script}`,
      args: ['--config', `configs/exp-${Math.floor(rnd() * 900) + 100}.yaml`, '--lr', pick(['3e-4', '1e-3', '5e-5']), '--seed', String(Math.floor(rnd() * 100))],
      cwd: ROOT,
      gpus,
      importance,
      runtimeSec: pick([900, 1800, 3600, 2 * 3600, 6 * 3600, 12 * 3600, 36 * 3600]),
      priority,
      priorityReason: overridden ? 'Set by you.' : pick(REASONS[priority]),
      priorityOverridden: overridden,
      state,
      createdAt,
    };
    if (rnd() < 0.6) {
      job.expectedGain = Math.round(rnd() * 100) / 10;
    }
    if (rnd() < 0.3) {
      job.args.push('--optimizer', pick(OPTIMISERS));
    }
    return job;
  };

  const jobs: Job[] = [];
  for (let i = 0; i < finishedCount; i++) {
    const createdAt = opts.now - historyMs + Math.floor((historyMs * i) / finishedCount);
    const roll = rnd();
    const state: JobState = roll < 0.8 ? 'succeeded' : roll < 0.92 ? 'failed' : roll < 0.98 ? 'cancelled' : 'lost';
    const job = makeJob(state, createdAt);
    const neverStarted = state === 'cancelled' && rnd() < 0.3;
    job.endedAt = createdAt + 60_000 + Math.floor(rnd() * job.runtimeSec * 1000);
    if (!neverStarted) {
      job.startedAt = createdAt + Math.floor(rnd() * 600_000);
      job.host = 'local';
      job.gpuIndices = Array.from({ length: Math.min(job.gpus, 4) }, (_, g) => g);
      job.handle = { kind: 'process', pgid: 10_000 + Math.floor(rnd() * 3_000_000) };
    }
    if (state === 'succeeded') {
      job.exitCode = 0;
    } else if (state === 'failed') {
      job.exitCode = pick([1, 1, 2, 137]);
      job.reason = rnd() < 0.3 ? pick(FAILURES) : undefined;
    } else if (state === 'cancelled') {
      job.exitCode = neverStarted ? undefined : 143;
      job.reason = neverStarted ? 'Cancelled before it started.' : 'Cancelled by you.';
    } else {
      job.reason = FAILURES[2];
    }
    if (rnd() < 0.08 && jobs.length > 0) {
      job.retryOf = jobs[jobs.length - 1].id;
    }
    jobs.push(job);
  }
  for (let i = 0; i < runningCount; i++) {
    const job = makeJob('running', opts.now - Math.floor(rnd() * 6 * 3600_000));
    job.startedAt = job.createdAt + 30_000;
    job.host = 'local';
    // One GPU each, no GPU held twice: what the store accepts for running jobs (storeValidation.ts).
    job.gpus = 1;
    job.gpuIndices = [i];
    // Above any real pid_max: after a reload these are found gone and marked Lost, never signalled.
    job.handle = { kind: 'process', pgid: 5_000_000 + i };
    jobs.push(job);
  }
  for (let i = 0; i < queuedCount; i++) {
    // Most queued in the last hour; a fifth waited long enough to be raised by aging.
    const waitedMs = rnd() < 0.8 ? Math.floor(rnd() * 3600_000) : 3600_000 + Math.floor(rnd() * 4 * 3600_000);
    jobs.push(makeJob('queued', opts.now - waitedMs));
  }

  const priorityExamples: PriorityExample[] = Array.from({ length: 200 }, (_, i) => ({
    features: { gpus: pick([0, 1, 2, 4, 8]), importance: pick<Importance>(['low', 'normal', 'high']), expectedGain: Math.round(rnd() * 100) / 10, runtimeSec: pick([900, 3600, 6 * 3600, 36 * 3600]) },
    label: pick<Priority>(['high', 'medium', 'low']),
    at: opts.now - historyMs + i * 3600_000,
  }));
  const lastInputs: Record<string, LastInputs> = {};
  for (const script of SCRIPTS) {
    lastInputs[script] = { args: ['--config', 'configs/base.yaml'], gpus: pick([0, 1, 2, 4]), importance: 'normal', expectedGain: 2, runtimeSec: 3600 };
  }
  return { jobs, priorityExamples, lastInputs, paused: opts.paused ?? false };
}

/** Counts per state, for the benchmark's notes. */
export function stateCounts(state: WorkspaceState): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const job of state.jobs) {
    counts[job.state] = (counts[job.state] ?? 0) + 1;
  }
  return counts;
}
