import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostCandidate } from '../../src/core/placement';
import { FastestPlacement, FirstFitPlacement } from '../../src/core/placementPolicies';
import type { Cluster } from '../../src/sim/clusterLoader';
import { runHeadroom } from '../../src/sim/headroom';
import { fasterHostWait, reserveForShortJobs } from '../../src/sim/holdPlacements';
import { estimateOrderDiscipline, type QueuedSimJob } from '../../src/sim/queueDisciplines';
import { createRng } from '../../src/sim/rng';
import { buildWorkload, newJob, type SimJobSpec } from '../../src/sim/simJobs';
import { makeJob } from '../support/builders';

/** Busy synthetic arrivals (every ~15 min, minutes to a day long) of jobs of the given widths. */
function workload(cluster: Cluster, widths: number[], n = 120) {
  const rng = createRng(3, 'headroom-trace');
  let t = 0;
  const rows = Array.from({ length: n }, (_, i) => {
    t += -900 * Math.log(1 - rng.next());
    return { line: i + 2, submitSec: t, durationSec: Math.round(600 * Math.exp(3 * rng.next())), gpus: widths[Math.floor(rng.next() * widths.length)] };
  });
  return buildWorkload(rows, cluster, 3).jobs;
}

const queued = (spec: Partial<SimJobSpec> & Pick<SimJobSpec, 'index' | 'estimateSec' | 'gpus'>): QueuedSimJob => {
  const identity = { identity: 'p:1', script: 'p/train.py', args: [], user: 'u', hostSec: new Float64Array([1]) };
  const full: SimJobSpec = { line: 2, submitSec: 0, durationSec: 1, importance: 'normal', fastestSec: 1, ...identity, ...spec };
  return { spec: full, job: newJob(full) };
};

test('estimate orders: shortest estimate first, or smallest estimate × GPUs, ties in submission order', () => {
  const jobs = [queued({ index: 0, estimateSec: 3600, gpus: 1 }), queued({ index: 1, estimateSec: 600, gpus: 8 }), queued({ index: 2, estimateSec: 600, gpus: 1 })];
  const ids = (d: ReturnType<typeof estimateOrderDiscipline>) => {
    jobs.forEach((q) => d.admit(q));
    return d.order(0).map((e) => e.job.id);
  };
  assert.deepEqual(ids(estimateOrderDiscipline('estimate')), [jobs[1].job.id, jobs[2].job.id, jobs[0].job.id]);
  assert.deepEqual(ids(estimateOrderDiscipline('area')), [jobs[2].job.id, jobs[0].job.id, jobs[1].job.id]);
});

test('reserving GPUs for short jobs: a long job waits rather than take the reserve; short ones and an idle cluster never wait', () => {
  const reserve = reserveForShortJobs(new FirstFitPlacement(), 0.25);
  // The typical job settles near one hour.
  for (let i = 0; i < 500; i++) {
    reserve.noteSubmitted?.(makeJob({ runtimeSec: 3600 }));
  }
  const host = (free: number, running: number): HostCandidate => ({ host: 'h', totalGpus: 8, freeGpus: Array.from({ length: free }, (_, g) => g), speed: 1, runningJobs: running, maxJobs: 8 });
  const long = makeJob({ runtimeSec: 10 * 3600 });
  const busy = host(2, 6);
  assert.equal(reserve.choose(long, [busy], [busy]).kind, 'wait', '2 of 8 free: one more long job would leave less than a quarter');
  assert.deepEqual(reserve.choose(makeJob({ runtimeSec: 1800 }), [busy], [busy]), { kind: 'place', host: 'h' });
  const roomy = host(6, 2);
  assert.deepEqual(reserve.choose(long, [roomy], [roomy]), { kind: 'place', host: 'h' });
  const idle = host(1, 0);
  assert.deepEqual(reserve.choose(long, [idle], [idle]), { kind: 'place', host: 'h' }, 'nothing runs, so a wait would never be released');
});

test('waiting for a faster host: holds a job while a faster host is about to free up, and not once it has waited its cap', () => {
  const waiter = fasterHostWait(new FastestPlacement(), 0);
  const job = makeJob({ runtimeSec: 40 * 3600 });
  const fast: HostCandidate = { host: 'fast', totalGpus: 1, freeGpus: [], speed: 2, runningJobs: 1, maxJobs: 1 };
  const slow: HostCandidate = { host: 'slow', totalGpus: 1, freeGpus: [0], speed: 1, runningJobs: 0, maxJobs: 1 };
  const blocker = makeJob({ runtimeSec: 10 * 3600, state: 'running', host: 'fast', startedAt: 0 });
  const at = (nowMs: number) => {
    waiter.beginRound?.({ nowMs, queued: [job], running: [blocker] });
    return waiter.choose(job, [slow], [slow, fast]);
  };
  // The fast host frees in 5 h and then runs the job in 20 h, against 40 h on the slow host now.
  assert.equal(at(0).kind, 'wait');
  // The cap is a quarter of the 40 h estimate: past it the job takes the slow host.
  assert.deepEqual(at(10 * 3600 * 1000 + 1), { kind: 'place', host: 'slow' });
});

test('on identical hosts with one-GPU jobs no placement changes anything; the report picks each family\'s best and the yardstick', () => {
  const cluster: Cluster = { name: 'same', hosts: [{ name: 'a', gpus: 4, speed: 1 }, { name: 'b', gpus: 4, speed: 1 }] };
  const report = runHeadroom(workload(cluster, [1]), cluster, [1, 2]);
  const placements = report.variants.filter((v) => v.family === 'placement' || v.family === 'chance').map((v) => v.avgJct);
  assert.equal(new Set(placements).size, 1, `every placement, random included, gives one schedule: ${placements.join(', ')}`);
  for (const family of ['placement', 'reorder', 'hold', 'oracle', 'chance', 'fcfs'] as const) {
    const members = report.variants.filter((v) => v.family === family);
    assert.ok(members.length > 0, family);
    assert.equal(report.best[family]?.avgJct, Math.min(...members.map((v) => v.avgJct)), `best of ${family}`);
  }
  const yardsticks = report.variants.filter((v) => v.family === 'placement' || v.family === 'fcfs');
  assert.equal(report.yardstick.avgJct, Math.min(...yardsticks.map((v) => v.avgJct)));
  assert.ok((report.best.oracle?.avgJct ?? Infinity) <= report.yardstick.avgJct, 'knowing true durations does not hurt');
});

test('every stand-in finishes every job on a mixed cluster with wide jobs: holds are always released', () => {
  const cluster: Cluster = { name: 'mixed', hosts: [{ name: 'a100', gpus: 4, speed: 1.6 }, { name: 'v100', gpus: 8, speed: 1 }, { name: 't4', gpus: 2, speed: 0.35 }] };
  const jobs = workload(cluster, [1, 1, 2, 4, 8]);
  const report = runHeadroom(jobs, cluster, [1]);
  const lowerBound = jobs.reduce((s, j) => s + j.fastestSec, 0) / jobs.length;
  for (const v of report.variants) {
    assert.ok(Number.isFinite(v.avgJct) && v.avgJct >= lowerBound, `${v.name}: ${v.avgJct}`);
  }
  assert.ok(report.variants.some((v) => v.family === 'hold' && v.avgJct !== report.best.placement?.avgJct), 'holding changed some schedule');
});
