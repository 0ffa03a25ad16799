// The sweep benchmark's two sides on a real task, briefly: TrainQ's sweep through the real local host
// (trials are processes reporting through the metrics protocol, stopped by ASHA) and the Optuna runner,
// each on a 12-epoch budget of digits_mlp, so `npm run bench:sweep` cannot rot between full runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { runSweepOnce } from '../../src/cli/sweepBenchRun';
import { parseSweepDefinition } from '../../src/core/sweep/sweepDefinition';

const TASKS = path.join(__dirname, '..', '..', 'bench', 'sweeps');
const PYTHON = '/usr/bin/python3';
const task = JSON.parse(fs.readFileSync(path.join(TASKS, 'digits_mlp.space.json'), 'utf8'));

test('a TrainQ sweep of real training counts exactly the epoch budget and finds a sane accuracy', { timeout: 120_000 }, async () => {
  const spec = parseSweepDefinition(
    {
      args: ['--epochs', '4', '--seed', '1'],
      parameters: task.parameters,
      metric: task.metric,
      goal: task.goal,
      budget: { trials: 100 },
      earlyStopping: { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: 4 },
      strategy: 'adaptive',
      gpus: 0,
    },
    { scriptPath: path.join(TASKS, 'digits_mlp.py'), cwd: TASKS, defaults: { gpus: 0, importance: 'normal', runtimeSec: 60 } },
  );
  const result = await runSweepOnce({ spec, budgetEpochs: 12, python: PYTHON });
  assert.equal(result.curve.length, 12, 'every epoch of the budget was reported and counted, none past it');
  assert.ok(result.trials >= 3, `${result.trials} trials: 4 epochs each at most`);
  assert.ok(result.best! > 0.1 && result.best! <= 1, `best val_acc ${result.best}`);
  // The best-so-far curve never gets worse.
  result.curve.forEach(([, best], i) => i === 0 || assert.ok(best >= result.curve[i - 1][1]));
  // The configuration behind the best is kept for the noise study, with every parameter of the space.
  assert.deepEqual(Object.keys(result.bestParams ?? {}).sort(), Object.keys(task.parameters).sort());
});

test('the Optuna baseline uses exactly the same epoch budget', { timeout: 120_000 }, async () => {
  const out = path.join(os.tmpdir(), `trainq-optuna-test-${process.pid}.json`);
  await promisify(execFile)(PYTHON, [path.join(TASKS, 'optuna_runner.py'), '--task', 'digits_mlp', '--sampler', 'tpe', '--seed', '1', '--budget-epochs', '12', '--out', out], { cwd: TASKS });
  const r = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  assert.equal(r.epochsUsed, 12);
  assert.ok(r.best > 0.1 && r.best <= 1);
});

test('the noise study re-trains a reported best configuration with fresh seeds', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainq-noise-'));
  const params = { learning_rate: 0.1, max_depth: 3, subsample: 0.8, min_samples_leaf: 4, max_features: 0.3 };
  const result = { tasks: { tabular_gbt: { metric: 'val_logloss', goal: 'min', strategies: { random: { bestAtBudget: [0.09], bestParams: [params] } } } } };
  fs.writeFileSync(path.join(dir, 'result.json'), JSON.stringify(result));
  const root = path.join(__dirname, '..', '..');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'sweepNoiseStudy.ts'), '--result', path.join(dir, 'result.json'), '--reseeds', '2', '--out', path.join(dir, 'study.json')], { cwd: root });
  const study = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8'));
  const random = study.tasks.tabular_gbt.strategies.random;
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(random.rerunMean.length, 1);
  assert.ok(random.rerunMean[0] > 0 && random.rerunMean[0] < 1, `re-run mean log loss ${random.rerunMean[0]}`);
  assert.ok(random.rerunStd[0] >= 0 && Number.isFinite(random.rerunStd[0]));
  // Luck is the reported value's lead over what the configuration is worth (positive = the report was lucky).
  assert.equal(random.medianLuck, random.rerunMean[0] - 0.09);
});
