import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { BenchError, runBench } from '../../src/sim/bench';
import { parseCluster, type Cluster } from '../../src/sim/clusterLoader';
import { MAX_DURATION_SEC, MAX_QUEUE_MEDIAN_SEC, MAX_QUEUE_SIGMA, MAX_QUEUE_WAIT_SEC } from '../../src/sim/inputLimits';
import { policyMetrics } from '../../src/sim/metrics';
import { resolvePolicies } from '../../src/sim/policies';
import { buildWorkload } from '../../src/sim/simJobs';
import { simulate } from '../../src/sim/simulator';
import type { SimEvent } from '../../src/sim/policyTypes';
import { parseTrace, type Trace } from '../../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..', '..');
const HEURISTICS = ['fcfs-firstfit', 'sjf-firstfit', 'priority-firstfit', 'priority-bestfit', 'priority-least-loaded', 'priority-fastest', 'priority-random'];

// Callers that bypass the loaders (tests, scripts) hand simulate() raw numbers. A NaN time used to
// spin the event loop forever and an Infinity pop an empty heap, so the cases run in a child with a deadline.
const HOSTILE = `
const { simulate } = require('./src/sim/simulator');
const { resolvePolicies } = require('./src/sim/policies');
const spec = (index, submitSec, durationSec) => ({ index, line: index + 2, submitSec, durationSec, gpus: 1, importance: 'normal', estimateSec: 600, fastestSec: durationSec, identity: 'p:1', script: 'p/train.py', args: [], user: 'u' });
const host = (speed) => ({ name: 'h', hosts: [{ name: 'slow', gpus: 2, speed }] });
const cases = {
  'duration 1e308 at speed 0.5': [[spec(0, 0, 60), spec(1, 5, 1e308)], host(0.5)],
  'duration NaN': [[spec(0, 0, NaN)], host(1)],
  'duration Infinity': [[spec(0, 0, Infinity)], host(1)],
  'submission NaN': [[spec(0, 0, 60), spec(1, NaN, 60)], host(1)],
  'submission Infinity': [[spec(0, Infinity, 60)], host(1)],
  'submissions out of order': [[spec(0, 10, 60), spec(1, 5, 60)], host(1)],
  'speed 0': [[spec(0, 0, 60)], host(0)],
  'speed NaN': [[spec(0, 0, 60)], host(NaN)],
  'speed -1': [[spec(0, 0, 60)], host(-1)],
};
(async () => {
  for (const [name, [specs, cluster]] of Object.entries(cases)) {
    specs.forEach((s) => (s.hostSec = Float64Array.from(cluster.hosts, (h) => s.durationSec / h.speed)));
    const policy = await resolvePolicies(['fcfs-firstfit'])[0].create({ seed: 1, agingMs: 3600000, cluster });
    try { simulate(specs, cluster, policy); console.log(name + ' => finished'); }
    catch (e) { console.log(name + ' => ' + e.name + ': ' + e.message); }
  }
})();
`;

test('times that are not finite are a SimulationError naming the job, never a crash or an endless loop', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', HOSTILE], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `status ${r.status} (killed by the deadline if null): ${r.stdout}${r.stderr}`);
  const expected = [
    /^duration 1e308 at speed 0\.5 => SimulationError: job 1 \(trace line 3\) would end at Infinity s on slow \(now 5 s \+ queue wait 0 s \+ 1e\+308 s ÷ speed 0\.5\): not a finite time\.$/,
    /^duration NaN => SimulationError: job 0 \(trace line 2\): duration NaN s is not a positive finite number\.$/,
    /^duration Infinity => SimulationError: job 0 \(trace line 2\): duration Infinity s is not a positive finite number\.$/,
    /^submission NaN => SimulationError: job 1 \(trace line 3\): submission time NaN s is not a finite time at or after the previous job's \(0 s\)\.$/,
    /^submission Infinity => SimulationError: job 0 \(trace line 2\): submission time Infinity s is not a finite time/,
    /^submissions out of order => SimulationError: job 1 \(trace line 3\): submission time 5 s is not a finite time at or after the previous job's \(10 s\)\.$/,
    /^speed 0 => SimulationError: job 0 \(trace line 2\) would end at Infinity s on slow/,
    /^speed NaN => SimulationError: job 0 \(trace line 2\) would end at NaN s on slow/,
    /^speed -1 => SimulationError: job 0 \(trace line 2\) would end at -60 s on slow/,
  ];
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, expected.length, r.stdout);
  lines.forEach((line, i) => assert.match(line, expected[i]));
});

test('a Slurm queue wait drawn at the largest median and sigma is clamped to a year, and the run stays finite', async () => {
  const cluster: Cluster = { name: 'q', hosts: [{ name: 'q', gpus: 4, speed: 1, kind: 'slurm', queueDelay: { medianSec: MAX_QUEUE_MEDIAN_SEC, sigma: MAX_QUEUE_SIGMA } }] };
  const rows = Array.from({ length: 400 }, (_, i) => `2017-10-01 00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},60,1`);
  const { jobs } = buildWorkload(parseTrace(['timestamp,duration,num_gpus', ...rows].join('\n'), 'q.csv').jobs, cluster, 1);
  const [entry] = resolvePolicies(['fcfs-firstfit']);
  // The Slurm wait runs from the job's dispatch (its start event) to when it starts running.
  const dispatched: number[] = [];
  const onEvent = (e: SimEvent) => e.kind === 'start' && (dispatched[e.job] = e.atSec);
  const run = simulate(jobs, cluster, await entry.create({ seed: 1, agingMs: 3_600_000, cluster }), { seed: 2, onEvent });
  // Read back as a difference of two simulated times, so equal to the clamp up to their rounding.
  const waits = run.outcomes.map((o, i) => o.startSec - dispatched[i]);
  const atClamp = (w: number) => Math.abs(w - MAX_QUEUE_WAIT_SEC) < 1e-6;
  assert.ok(waits.every((w) => w > 0 && (w < MAX_QUEUE_WAIT_SEC || atClamp(w))), `largest wait ${Math.max(...waits)} s`);
  // σ = 5: a draw exceeds a year when Z > ln(12.2)/5 ≈ 0.5, about 3 draws in 10.
  const clamped = waits.filter(atClamp).length;
  assert.ok(clamped > 50 && clamped < 250, `${clamped} of 400 waits clamped`);
  assert.ok(Object.values(policyMetrics(jobs, cluster, run)).every(Number.isFinite));
});

test('a report never carries a metric that JSON would write as null', async () => {
  // In-memory traces skip the loaders' bounds: two jobs of 8e307 s in a row on one GPU end at 1.6e308 s,
  // still finite, but their JCTs sum past Number.MAX_VALUE.
  const trace: Trace = { source: 'mem', skipped: [], jobs: [0, 1].map((i) => ({ line: i + 2, submitSec: 1e9 + i, durationSec: 8e307, gpus: 1 })) };
  const cluster: Cluster = { name: 'one', hosts: [{ name: 'h', gpus: 1, speed: 1 }] };
  const input = { trace, traceLabel: 'mem', cluster, policies: resolvePolicies(['fcfs-firstfit']), seed: 1, agingMinutes: 60 };
  const message = 'policy fcfs-firstfit: avgJct came out as Infinity, not a finite number; the inputs are beyond what the simulator can measure.';
  await assert.rejects(runBench(input), (err: Error) => err instanceof BenchError && err.message === message);
  trace.jobs.forEach((j) => (j.durationSec = 1e308));
  await assert.rejects(runBench(input), /^BenchError: the lower bound: avgJct came out as Infinity/);
});

test('every heuristic runs a trace at the loaders’ bounds to finite numbers', async () => {
  // The longest durations at the slowest speed, the shortest at the fastest, submissions at both ends of the range, a Slurm queue at its limits.
  const cluster = parseCluster(
    JSON.stringify({
      name: 'edge',
      hosts: [
        { name: 'slowest', gpus: 64, speed: 0.001 },
        { name: 'fastest', gpus: 2, speed: 1000 },
        { name: 'slurm', gpus: 8, speed: 0.001, kind: 'slurm', queueDelay: { medianSec: MAX_QUEUE_MEDIAN_SEC, sigma: MAX_QUEUE_SIGMA } },
      ],
    }),
    'edge.json',
  );
  const times = ['1970-01-01 00:00:00', '2017-10-01 00:00:00', '2099-12-31 23:59:59'];
  const rows = Array.from({ length: 300 }, (_, i) => `${times[i % 3]},${i % 2 === 0 ? MAX_DURATION_SEC : '0.001'},${[1, 2, 64, 1_048_576][i % 4]}`);
  const trace = parseTrace(['timestamp,duration,num_gpus', ...rows].join('\n'), 'edge.csv');
  assert.equal(trace.skipped.length, 0);
  const { report } = await runBench({ trace, traceLabel: 'edge.csv', cluster, policies: resolvePolicies(HEURISTICS), seed: 1, agingMinutes: 60 });
  assert.equal(report.unplaceable, 75);
  const json = JSON.stringify(report);
  assert.ok(!json.includes('null'), json);
  for (const [name, m] of Object.entries(report.policies)) {
    assert.ok(Object.values(m).every(Number.isFinite), `${name}: ${JSON.stringify(m)}`);
    assert.ok(m.avgJct >= report.lowerBound.avgJct && m.gpuUtil > 0 && m.gpuUtil <= 1, `${name}: ${JSON.stringify(m)}`);
  }
});
