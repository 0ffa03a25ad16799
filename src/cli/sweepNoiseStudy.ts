/**
 * `npm run bench:sweep-noise -- --result result.json [--tasks a,b] [--reseeds 5] [--out study.json]`
 *
 * How much of a benchmark's "best at budget" is the search and how much is luck. In bench:sweep each
 * sweep runs every trial with one training seed, so a trial's value is its configuration's quality plus
 * that seed's noise (subsampling, initialisation), and the best of 20 trials is partly the luckiest
 * draw. This study takes the configuration each strategy reported as best for each sweep seed and
 * trains it again with fresh seeds: the mean of those re-runs is what the configuration is worth, and
 * the spread of one configuration across seeds is the noise every strategy's number carries.
 * Prints a table per task and writes JSON.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Goal } from '../core/sweep/sweepTypes';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const TASK_DIR = path.join(ROOT, 'bench', 'sweeps');
const PYTHON = process.env.TRAINQ_BENCH_PYTHON ?? '/usr/bin/python3';
/** Fresh training seeds, far from the 1..N the benchmark's sweeps use. */
const RESEED_BASE = 1000;

type Params = Record<string, string | number | boolean>;
interface StrategyResult { bestAtBudget: Array<number | null>; bestParams?: Array<Params | null> }
interface TaskResult { metric: string; goal: Goal; strategies: Record<string, StrategyResult> }

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: readonly number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

/** The best value one training run reports over its epochs, counted as the benchmark counts it. */
async function trainOnce(task: string, params: Params, maxEpochs: number, seed: number, metric: string, goal: Goal): Promise<number> {
  const args = [path.join(TASK_DIR, `${task}.py`), ...Object.entries(params).flatMap(([k, v]) => [`--${k}`, String(v)]), '--epochs', String(maxEpochs), '--seed', String(seed)];
  const { stdout } = await run(PYTHON, args, { cwd: TASK_DIR, maxBuffer: 16 * 1024 * 1024 });
  const values = [...stdout.matchAll(new RegExp(`^trainq:metric ${metric}=(\\S+)`, 'gm'))].map((m) => Number(m[1])).filter(Number.isFinite);
  if (values.length === 0) {
    throw new Error(`${task} reported no ${metric} for ${JSON.stringify(params)}`);
  }
  return goal === 'max' ? Math.max(...values) : Math.min(...values);
}

async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { result: { type: 'string' }, tasks: { type: 'string' }, reseeds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '2' }, out: { type: 'string' } } });
  if (!values.result) {
    throw new Error('--result <bench:sweep output with bestParams> is required');
  }
  const result = JSON.parse(fs.readFileSync(values.result, 'utf8')) as { tasks: Record<string, TaskResult> };
  const reseeds = Array.from({ length: Number(values.reseeds) }, (_, i) => RESEED_BASE + i + 1);
  const study: Record<string, unknown> = {};
  for (const [task, t] of Object.entries(result.tasks)) {
    if (values.tasks && !values.tasks.split(',').includes(task)) continue;
    const maxEpochs = (JSON.parse(fs.readFileSync(path.join(TASK_DIR, `${task}.space.json`), 'utf8')) as { maxEpochs: number }).maxEpochs;
    const rows: string[] = [];
    const perStrategy: Record<string, unknown> = {};
    for (const [strategy, s] of Object.entries(t.strategies)) {
      const configs = (s.bestParams ?? []).map((p, i) => ({ p, reported: s.bestAtBudget[i] })).filter((c): c is { p: Params; reported: number } => c.p !== null && c.reported !== null);
      if (configs.length === 0) continue;
      const reruns = await pool(configs.map((c) => () => Promise.all(reseeds.map((seed) => trainOnce(task, c.p, maxEpochs, seed, t.metric, t.goal)))), Number(values.concurrency));
      const worth = reruns.map(mean);
      const noise = reruns.map(std);
      const luck = configs.map((c, i) => (t.goal === 'max' ? c.reported - worth[i] : worth[i] - c.reported));
      perStrategy[strategy] = { reported: configs.map((c) => c.reported), rerunMean: worth, rerunStd: noise, medianReported: median(configs.map((c) => c.reported)), medianRerun: median(worth), medianNoiseStd: median(noise), medianLuck: median(luck) };
      rows.push(`${strategy.padEnd(14)} ${median(configs.map((c) => c.reported)).toFixed(4).padEnd(16)} ${median(worth).toFixed(4).padEnd(16)} ${median(noise).toFixed(4).padEnd(14)} ${median(luck).toFixed(4)}`);
      process.stderr.write(`${task} ${strategy}: ${configs.length} configurations × ${reseeds.length} seeds re-trained\n`);
    }
    study[task] = { metric: t.metric, goal: t.goal, reseeds: reseeds.length, strategies: perStrategy };
    console.log(`\n${task} (${t.goal} ${t.metric}; each sweep's best configuration re-trained with ${reseeds.length} fresh seeds)`);
    console.log(`${'strategy'.padEnd(14)} ${'median reported'.padEnd(16)} ${'median re-run'.padEnd(16)} ${'noise (std)'.padEnd(14)} median luck`);
    rows.forEach((r) => console.log(r));
  }
  if (values.out) {
    fs.writeFileSync(values.out, `${JSON.stringify({ source: path.basename(values.result), tasks: study }, null, 2)}\n`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
