// A sweep record as the store keeps it, shared by the sweep view's protocol and view-model tests.
import type { SweepRecord, SweepTrial } from '../../src/core/sweep/sweepRecord';
import type { SweepSpec } from '../../src/core/sweep/sweepTypes';

export function sweepSpec(overrides: Partial<SweepSpec> = {}): SweepSpec {
  return {
    name: 'lr sweep',
    script: '/work/train.py',
    cwd: '/work',
    fixedArgs: ['--data', 'cifar'],
    params: [
      { name: 'lr', kind: 'float', min: 1e-5, max: 0.1, log: true, arg: '--lr' },
      { name: 'batch', kind: 'choice', values: [32, 64, 128] },
      { name: 'layers', kind: 'int', min: 2, max: 8 },
      { name: 'optimizer', kind: 'choice', values: ['sgd', 'adam'], arg: '--opt={}' },
    ],
    metric: 'val_acc',
    goal: 'max',
    budget: { trials: 40, gpuHours: 12 },
    parallel: 2,
    earlyStopping: { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 27 },
    strategy: 'adaptive',
    seed: 7,
    gpus: 2,
    importance: 'high',
    expectedGain: 5,
    runtimeSec: 1800,
    ...overrides,
  };
}

export function sweepTrial(trial: number, overrides: Partial<SweepTrial> = {}): SweepTrial {
  return {
    trial,
    jobId: `job-${trial}`,
    params: { lr: 0.001 * trial, batch: 64, layers: 2 + trial, optimizer: 'adam' },
    why: `random draw ${trial}`,
    state: 'succeeded',
    curve: [
      { step: 1, value: 0.5 + trial / 100 },
      { step: 2, value: 0.6 + trial / 100 },
    ],
    gpuSec: 3600,
    ...overrides,
  };
}

/** Four trials: 1 and 2 finished, 3 stopped early (the best value), 4 still queued with no reports. */
export function sweepRecord(overrides: Partial<SweepRecord> = {}): SweepRecord {
  return {
    id: 'sweep-1',
    spec: sweepSpec(),
    status: 'running',
    createdAt: 1_718_000_000_000,
    trials: [
      sweepTrial(1),
      sweepTrial(2, { state: 'failed', curve: [{ step: 1, value: 0.4 }] }),
      sweepTrial(3, {
        state: 'stopped',
        stopWhy: 'val_acc 0.51 at step 3 is not in the top 1/3 of 4 trials',
        curve: [
          { step: 1, value: 0.9 },
          { step: 3, value: 0.7 },
        ],
      }),
      sweepTrial(4, { state: 'queued', curve: [], gpuSec: 0 }),
    ],
    ...overrides,
  };
}
