/**
 * `npm run study:predictions [-- --trace bench/traces/helios-venus-2vc.csv]`: how well core's run-time
 * model predicts a real trace with recurring identities, against simpler predictors, each job predicted
 * from the jobs that had ENDED by the time it was submitted (what the product would know then). Jobs
 * that did not complete (cancelled, failed) are censored: they train the model as lower bounds and are
 * not scored, since their true length is unknown. No estimate is given (the trace has none), so the
 * model starts from what jobs usually take. Prints one table.
 *
 * Predictors: the model; the median of the identity's earlier runs (the shared README's baseline,
 * which counts every earlier-submitted job, ended or not: both variants are printed); the identity's
 * last run; the mean log of its runs (no shrinkage); the median of the last 500 jobs.
 */
import { parseArgs } from 'node:util';
import { RuntimeModel } from '../src/core/runtimeModel';
import { loadTrace, type TraceJob } from '../src/sim/traceLoader';

const { values } = parseArgs({ options: { trace: { type: 'string', default: 'bench/traces/helios-venus-2vc.csv' } } });
const trace = loadTrace(values.trace as string);
const jobs = trace.jobs.filter((j) => j.identity !== undefined);
if (jobs.length === 0) {
  console.error(`${values.trace}: no job has an identity column value; the study needs recurring identities.`);
  process.exit(2);
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const quantile = (xs: number[], q: number): number => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

type Predictor = (job: TraceJob, ended: readonly TraceJob[], submitted: readonly TraceJob[]) => number | undefined;
const sameId = (j: TraceJob) => (k: TraceJob) => k.identity === j.identity;
const completed = (k: TraceJob) => k.status === undefined || k.status === 'completed';

const predictors: Record<string, Predictor> = {
  'identity median, earlier submitted (README baseline)': (j, _e, s) => {
    const xs = s.filter(sameId(j)).map((k) => k.durationSec);
    return xs.length ? median(xs) : undefined;
  },
  'identity median, ended before': (j, e) => {
    const xs = e.filter(sameId(j)).map((k) => k.durationSec);
    return xs.length ? median(xs) : undefined;
  },
  'identity last completed run': (j, e) => e.filter(sameId(j)).filter(completed).at(-1)?.durationSec,
  'identity mean log, completed runs': (j, e) => {
    const xs = e.filter(sameId(j)).filter(completed).map((k) => Math.log(k.durationSec));
    return xs.length ? Math.exp(xs.reduce((a, b) => a + b, 0) / xs.length) : undefined;
  },
  'median of the last 500 jobs': (_j, e) => (e.length ? median(e.slice(-500).map((k) => k.durationSec)) : undefined),
};

// Replays ends and submissions in time order; the model sees a job when it ends.
const model = new RuntimeModel();
const byEnd = jobs.slice().sort((a, b) => a.submitSec + a.durationSec - (b.submitSec + b.durationSec));
const ended: TraceJob[] = [];
let nextEnd = 0;
const errors = new Map<string, number[]>([['TrainQ run-time model', []], ...Object.keys(predictors).map((k): [string, number[]] => [k, []])]);
const fallback = new Map<string, number>();
const modelCost: number[] = [];
jobs.forEach((job, i) => {
  while (nextEnd < byEnd.length && byEnd[nextEnd].submitSec + byEnd[nextEnd].durationSec <= job.submitSec) {
    const k = byEnd[nextEnd++];
    ended.push(k);
    const t0 = performance.now();
    model.observe({ script: k.identity as string, args: [], gpus: k.gpus, host: 'cluster', declaredSpeed: 1, runSec: k.durationSec, censored: !completed(k), atMs: (k.submitSec + k.durationSec) * 1000 });
    modelCost.push((performance.now() - t0) * 1000);
  }
  if (!completed(job)) {
    return;
  }
  const err = (p: number) => Math.abs(Math.log(p / job.durationSec));
  (errors.get('TrainQ run-time model') as number[]).push(err(model.predictOn({ script: job.identity as string, args: [], gpus: job.gpus }, [{ name: 'cluster', declaredSpeed: 1 }])[0].medianSec));
  const global = predictors['median of the last 500 jobs'](job, ended, jobs.slice(0, i)) ?? 3600;
  for (const [name, predict] of Object.entries(predictors)) {
    const p = predict(job, ended, jobs.slice(0, i));
    if (p === undefined) {
      fallback.set(name, (fallback.get(name) ?? 0) + 1);
    }
    (errors.get(name) as number[]).push(err(p ?? global));
  }
});

console.log(`${values.trace}: ${jobs.length} jobs, ${errors.get('TrainQ run-time model')?.length} completed ones scored`);
console.log('| predictor | median abs log error | p90 | no history (fell back to the last-500 median) |');
console.log('|---|---|---|---|');
for (const [name, xs] of errors) {
  console.log(`| ${name} | ${median(xs).toFixed(3)} | ${quantile(xs, 0.9).toFixed(3)} | ${fallback.get(name) ?? 0} |`);
}
console.log(`model: ${median(modelCost).toFixed(1)} µs median per finished job learned (p99 ${quantile(modelCost, 0.99).toFixed(1)} µs)`);
