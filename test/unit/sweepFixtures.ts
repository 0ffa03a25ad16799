// Sweep definitions shared by the parser's and the schema's tests, so both judge the same examples.

export const FULL = {
  $schema: './schemas/sweep.schema.json',
  name: 'lr sweep',
  script: 'train.py',
  args: ['--data', 'cifar'],
  parameters: {
    lr: { type: 'float', min: 1e-5, max: 0.1, log: true, arg: '--lr' },
    batch: { type: 'choice', values: [32, 64, 128] },
    layers: { type: 'int', min: 2, max: 8 },
    optimizer: { type: 'choice', values: ['sgd', 'adam'], arg: '--opt={}' },
    warmup: { type: 'fixed', value: 500 },
  },
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
  runtime: '30m',
  constraints: { require: ['a100', 'lab-1'], exclude: ['lab-2'], gpuModel: 'A100', minGpuMem: '20GiB' },
  outputs: ['outputs/**', '*.{pt,ckpt}'],
};

export const MINIMAL = {
  parameters: { lr: { type: 'float', min: 0.001, max: 0.1 } },
  metric: 'val/loss',
  goal: 'min',
  budget: { trials: 10 },
};
