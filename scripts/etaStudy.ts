/**
 * `npm run study:eta [-- --trace <csv> --cluster <json> --seed N --max-jobs N]`: how right the Job
 * Queue's "starts ~14:20" is. Replays a trace in the simulator with the `learned-soonest` policy (the
 * run-time model, TrainQ's queues, soonest predicted finish); each time a job is queued, core's ETA
 * planner (src/core/etaPlanner.ts, what the view shows) plays the queue forward from that moment with
 * what the model knows then, and its expected start is compared with when the job really started.
 * Prints the distribution of the wait's relative error, (expected − actual) ÷ actual, over jobs that
 * waited at least a minute, and the share within ±25 %. Without arguments: the typed development pairs.
 */
import { parseArgs } from 'node:util';
import type { Job } from '../src/core/job';
import { planEtas } from '../src/core/etaPlanner';
import type { HostOffer } from '../src/core/scheduler';
import { loadCluster } from '../src/sim/clusterLoader';
import { resolvePolicies } from '../src/sim/policies';
import type { LearnedRuntimes } from '../src/sim/learnedRuntimes';
import type { PolicyInstance } from '../src/sim/policyTypes';
import { buildWorkload, type SimJobSpec } from '../src/sim/simJobs';
import { simulate } from '../src/sim/simulator';
import { loadTrace } from '../src/sim/traceLoader';

const { values } = parseArgs({
  options: { trace: { type: 'string' }, cluster: { type: 'string' }, seed: { type: 'string', default: '1' }, 'max-jobs': { type: 'string', default: '1000' } },
});
const pairs: Array<[string, string]> = values.trace && values.cluster
  ? [[values.trace, values.cluster]]
  : [['philly-103959', 'typed-lab-48'], ['philly-0e4a51', 'typed-default-32'], ['philly-ed69ec', 'typed-small-12'], ['philly-7f04ca', 'typed-big-64']].map(([t, c]) => [`bench/traces/${t}.csv`, `bench/clusters/${c}.json`]);
const AGING_MS = 60 * 60_000;
const seed = Number(values.seed);

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function study(traceFile: string, clusterFile: string): Promise<string> {
  const cluster = loadCluster(clusterFile);
  const workload = buildWorkload(loadTrace(traceFile).jobs, cluster, seed, Number(values['max-jobs']));
  const policy = (await resolvePolicies(['learned-soonest'])[0].create({ seed, agingMs: AGING_MS, cluster })) as PolicyInstance & { learned: LearnedRuntimes };
  const offers: HostOffer[] = cluster.hosts.map((h) => ({ name: h.name, online: true, gpuIndices: Array.from({ length: h.gpus }, (_, i) => i), speed: h.speed, maxJobs: h.gpus }));
  const live = new Map<number, { job: Job; spec: SimJobSpec }>();
  const admit = policy.discipline.admit;
  policy.discipline = { ...policy.discipline, admit: (q) => {
      admit(q);
      live.set(q.spec.index, q);
    },
  };
  const expectedStart = new Map<number, number>();
  let planMs = 0;
  let plans = 0;
  const inner = policy.onEvent?.bind(policy);
  policy.onEvent = (e) => {
    inner?.(e);
    if (e.kind === 'finish') {
      live.delete(e.job);
    } else if (e.kind === 'submit') {
      // What the product's planner is given: the jobs as queued (the user's estimate as runtimeSec).
      const jobs = [...live.values()].map(({ job, spec }) => ({ ...job, runtimeSec: spec.estimateSec }));
      const t0 = performance.now();
      const plan = planEtas({ jobs, offers, nowMs: e.atSec * 1000, agingMs: AGING_MS }, policy.learned.model);
      planMs += performance.now() - t0;
      plans += 1;
      const eta = plan.queued.get(live.get(e.job)?.job.id ?? '');
      if (eta) {
        expectedStart.set(e.job, eta.startMs / 1000);
      }
    }
  };
  const run = simulate(workload.jobs, cluster, policy, { seed });
  policy.dispose?.();
  const errors: number[] = [];
  let zeroWaitRight = 0;
  let zeroWait = 0;
  for (const spec of workload.jobs) {
    const expected = expectedStart.get(spec.index);
    if (expected === undefined) {
      continue;
    }
    const actualWait = run.outcomes[spec.index].startSec - spec.submitSec;
    const expectedWait = expected - spec.submitSec;
    if (actualWait < 60) {
      zeroWait += 1;
      zeroWaitRight += expectedWait < 60 ? 1 : 0;
    } else {
      errors.push((expectedWait - actualWait) / actualWait);
    }
  }
  errors.sort((a, b) => a - b);
  const within = errors.filter((x) => Math.abs(x) <= 0.25).length / Math.max(1, errors.length);
  const f = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)} %`;
  return `| ${traceFile.split('/').pop()} → ${cluster.name} | ${workload.jobs.length} | ${errors.length} | ${f(pct(errors, 0.25))} / ${f(pct(errors, 0.5))} / ${f(pct(errors, 0.75))} | ${(100 * within).toFixed(0)} % | ${zeroWaitRight} of ${zeroWait} | ${(planMs / plans).toFixed(2)} ms |`;
}

(async () => {
  console.log('| trace → cluster | jobs | waited ≥ 1 min | wait error p25 / median / p75 | within ±25 % | started at once, said so | planning, mean |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [t, c] of pairs) {
    console.log(await study(t, c));
  }
})();
