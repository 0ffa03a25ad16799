/**
 * `npm run bench:sweep -- [--tasks a,b] [--seeds N] [--strategies …] [--stop asha|median|off] --out result.json`
 *
 * Real training, side by side with what users pick instead: each task in bench/sweeps/ (a Python
 * script reporting its validation metric per epoch through the metrics protocol) is tuned by TrainQ's
 * strategies through the real local host (sweepBenchRun.ts), and by Optuna (TPE + MedianPruner, and
 * RandomSampler without pruning) in-process (bench/sweeps/optuna_runner.py), with the same budget
 * counted in training epochs, over several seeds. Prints a table per task and writes the JSON the
 * issue asks for: best-at-budget per seed and its median, and the share of the budget each strategy
 * needed to reach Optuna TPE's final best.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { parseSweepDefinition } from '../core/sweep/sweepDefinition';
import type { Goal, StrategyName } from '../core/sweep/sweepTypes';
import { runSweepOnce, type SweepRunResult } from './sweepBenchRun';
import { aggregate, formatTaskTable, type RunOutcome } from './sweepBenchReport';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const TASK_DIR = path.join(ROOT, 'bench', 'sweeps');
const PYTHON = process.env.TRAINQ_BENCH_PYTHON ?? '/usr/bin/python3';
const TRAINQ_STRATEGIES: StrategyName[] = ['adaptive', 'qlearning', 'random', 'grid'];
const OPTUNA = ['optuna-tpe', 'optuna-random'] as const;

interface TaskFile {
  metric: string;
  goal: Goal;
  maxEpochs: number;
  budgetEpochs: number;
  parameters: Record<string, unknown>;
}

function stopRule(name: string, maxEpochs: number): unknown {
  // The same rule for every TrainQ strategy, so they differ only in what they propose.
  if (name === 'median') {
    return { rule: 'median', graceSteps: 3, minTrials: 5 };
  }
  if (name === 'asha') {
    return { rule: 'asha', minSteps: 1, reduction: 3, maxSteps: maxEpochs };
  }
  return 'off';
}

async function trainqRun(task: string, file: TaskFile, strategy: StrategyName, seed: number, stop: string): Promise<SweepRunResult> {
  const script = path.join(TASK_DIR, `${task}.py`);
  const spec = parseSweepDefinition(
    {
      name: `${task} ${strategy} seed ${seed}`,
      args: ['--epochs', String(file.maxEpochs), '--seed', String(seed)],
      parameters: file.parameters,
      metric: file.metric,
      goal: file.goal,
      budget: { trials: 10_000 },
      parallel: 1,
      earlyStopping: stopRule(stop, file.maxEpochs),
      strategy,
      seed,
      gpus: 0,
      runtime: 60,
    },
    { scriptPath: script, cwd: TASK_DIR, defaults: { gpus: 0, importance: 'normal', runtimeSec: 60 } },
  );
  return runSweepOnce({ spec, budgetEpochs: file.budgetEpochs, python: PYTHON });
}

async function optunaRun(task: string, file: TaskFile, sampler: 'tpe' | 'random', seed: number): Promise<SweepRunResult> {
  const out = path.join(os.tmpdir(), `trainq-optuna-${process.pid}-${task}-${sampler}-${seed}.json`);
  const started = Date.now();
  await run(PYTHON, [path.join(TASK_DIR, 'optuna_runner.py'), '--task', task, '--sampler', sampler, '--seed', String(seed), '--budget-epochs', String(file.budgetEpochs), '--out', out], {
    cwd: TASK_DIR,
    maxBuffer: 64 * 1024 * 1024,
  });
  type OptunaTrial = { params: Record<string, string | number | boolean>; values: number[] };
  const result = JSON.parse(fs.readFileSync(out, 'utf8')) as { best: number; bestCurve: Array<[number, number]>; trials: OptunaTrial[] };
  fs.rmSync(out, { force: true });
  const bestParams = result.trials.find((t) => t.values.includes(result.best))?.params;
  return { best: result.best, bestParams, curve: result.bestCurve, trials: result.trials.length, wallSec: (Date.now() - started) / 1000, proposeMs: [] };
}

/** Runs `jobs` with at most `limit` at once (2 cores: two sweeps side by side). */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string' },
      seeds: { type: 'string', default: '5' },
      strategies: { type: 'string' },
      stop: { type: 'string', default: 'asha' },
      concurrency: { type: 'string', default: '2' },
      out: { type: 'string' },
    },
  });
  const tasks = values.tasks ? values.tasks.split(',') : fs.readdirSync(TASK_DIR).filter((f) => f.endsWith('.space.json')).map((f) => f.replace('.space.json', '')).sort();
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
  const strategies = values.strategies ? values.strategies.split(',') : [...TRAINQ_STRATEGIES, ...OPTUNA];
  if (!['asha', 'median', 'off'].includes(values.stop!)) {
    throw new Error(`--stop must be asha, median or off, not '${values.stop}'`);
  }
  const started = Date.now();
  const report: Record<string, unknown> = {};
  for (const task of tasks) {
    const file = JSON.parse(fs.readFileSync(path.join(TASK_DIR, `${task}.space.json`), 'utf8')) as TaskFile;
    const jobs: Array<() => Promise<RunOutcome>> = [];
    for (const strategy of strategies) {
      for (const seed of seeds) {
        jobs.push(async () => {
          const r = strategy.startsWith('optuna-')
            ? await optunaRun(task, file, strategy === 'optuna-tpe' ? 'tpe' : 'random', seed)
            : await trainqRun(task, file, strategy as StrategyName, seed, values.stop!);
          process.stderr.write(`${task} ${strategy} seed ${seed}: best ${r.best} after ${r.trials} trials in ${r.wallSec.toFixed(1)} s\n`);
          return { strategy, seed, ...r };
        });
      }
    }
    const outcomes = await pool(jobs, Number(values.concurrency));
    const summary = aggregate(file.metric, file.goal, file.budgetEpochs, outcomes);
    report[task] = summary;
    console.log(formatTaskTable(task, summary));
  }
  const totalSec = (Date.now() - started) / 1000;
  console.log(`total ${totalSec.toFixed(0)} s (stop rule for TrainQ strategies: ${values.stop})`);
  if (values.out) {
    fs.writeFileSync(values.out, `${JSON.stringify({ tasks: report, stopRule: values.stop, seeds: seeds.length, totalSec }, null, 2)}\n`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
