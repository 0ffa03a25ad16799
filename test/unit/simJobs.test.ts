import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RUNTIME_SEC, MIN_RUNTIME_SEC } from '../../src/core/features';
import type { Cluster } from '../../src/sim/clusterLoader';
import { ESTIMATE_LOG_SIGMA, GAIN_GIVEN_SHARE, GAIN_MEAN_PCT, buildWorkload, newJob } from '../../src/sim/simJobs';
import type { TraceJob } from '../../src/sim/traceLoader';

const CLUSTER: Cluster = { name: 'c', hosts: [{ name: 'a', gpus: 4, speed: 1 }, { name: 'b', gpus: 8, speed: 0.5 }] };
const rows = (n: number, durationSec = 7_200): TraceJob[] => Array.from({ length: n }, (_, i) => ({ line: i + 2, submitSec: 1_000 + i, durationSec, gpus: 1 + (i % 4) }));

test('synthetic features follow the documented distributions', () => {
  const { jobs } = buildWorkload(rows(20_000), CLUSTER, 5);
  const share = (pred: (j: (typeof jobs)[number]) => boolean) => jobs.filter(pred).length / jobs.length;
  assert.ok(Math.abs(share((j) => j.importance === 'high') - 0.2) < 0.01);
  assert.ok(Math.abs(share((j) => j.importance === 'normal') - 0.6) < 0.01);
  assert.ok(Math.abs(share((j) => j.expectedGain !== undefined) - GAIN_GIVEN_SHARE) < 0.01);
  const gains = jobs.flatMap((j) => (j.expectedGain === undefined ? [] : [j.expectedGain]));
  assert.ok(Math.abs(gains.reduce((s, g) => s + g, 0) / gains.length - GAIN_MEAN_PCT) < 0.3);
  assert.ok(gains.every((g) => Number.isInteger(g) && g >= 0 && g <= 100));
  // The estimate error is log-normal around the truth: mean log ratio ≈ 0, deviation ≈ σ.
  const logs = jobs.map((j) => Math.log(j.estimateSec / j.durationSec));
  const meanLog = logs.reduce((s, v) => s + v, 0) / logs.length;
  const sdLog = Math.sqrt(logs.reduce((s, v) => s + (v - meanLog) ** 2, 0) / logs.length);
  assert.ok(Math.abs(meanLog) < 0.02);
  assert.ok(Math.abs(sdLog - ESTIMATE_LOG_SIGMA) < 0.02);
});

test('estimates stay within what the queue accepts', () => {
  const short = buildWorkload(rows(200, 5), CLUSTER, 1).jobs;
  // e^(0.5·Z) would need |Z| > 4.9 to bring either back inside the range.
  const long = buildWorkload(rows(200, 600 * 86_400), CLUSTER, 1).jobs;
  assert.ok(short.every((j) => j.estimateSec === MIN_RUNTIME_SEC));
  assert.ok(long.every((j) => j.estimateSec === MAX_RUNTIME_SEC));
});

test('--max-jobs takes a prefix without changing the jobs it keeps', () => {
  const all = buildWorkload(rows(500), CLUSTER, 9).jobs;
  assert.deepEqual(buildWorkload(rows(500), CLUSTER, 9, 120).jobs, all.slice(0, 120));
});

test('times are re-based on the first job kept, and the fastest-fit duration knows host sizes', () => {
  const trace: TraceJob[] = [
    { line: 2, submitSec: 500, durationSec: 100, gpus: 16 },
    { line: 3, submitSec: 800, durationSec: 100, gpus: 2 },
    { line: 4, submitSec: 860, durationSec: 100, gpus: 8 },
  ];
  const { jobs, unplaceable } = buildWorkload(trace, CLUSTER, 1);
  assert.equal(unplaceable, 1);
  assert.deepEqual(
    jobs.map((j) => [j.index, j.line, j.submitSec, j.fastestSec]),
    [
      [0, 3, 0, 100],
      [1, 4, 60, 200],
    ],
  );
  const job = newJob(jobs[1]);
  assert.deepEqual([job.id, job.state, job.createdAt, job.runtimeSec], ['job-0000001', 'queued', 60_000, jobs[1].estimateSec]);
});

test('untyped hosts: run time is duration ÷ speed per host, and the job carries its script and args', () => {
  const { jobs } = buildWorkload(rows(50), CLUSTER, 2);
  for (const j of jobs) {
    assert.deepEqual([...j.hostSec], [j.durationSec / 1, j.durationSec / 0.5]);
    assert.equal(j.model, undefined);
    assert.match(j.script, /^proj-\d+\/train\.py$/);
    assert.match(j.identity, new RegExp(`^proj-\\d+:${j.gpus}$`));
    assert.deepEqual([j.args[0], j.args[2]], ['--epochs', '--seed']);
  }
  const job = newJob(jobs[3]);
  assert.deepEqual([job.script, job.args, job.name], [jobs[3].script, jobs[3].args, jobs[3].script]);
  assert.notEqual(job.args, jobs[3].args, 'each run gets its own argv');
});
