import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Importance } from '../../src/core/job';
import type { Placement } from '../../src/core/placement';
import { FastestPlacement } from '../../src/core/placementPolicies';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { runBench } from '../../src/sim/bench';
import { fastestFitSpeed, loadCluster, totalGpus, type Cluster } from '../../src/sim/clusterLoader';
import { busyGpuSeconds, policyMetrics } from '../../src/sim/metrics';
import { POLICIES, defaultPolicyNames, resolvePolicies } from '../../src/sim/policies';
import type { PolicyInstance, SimEvent } from '../../src/sim/policyTypes';
import { fcfsDiscipline, priorityDiscipline } from '../../src/sim/queueDisciplines';
import { buildWorkload, type SimJobSpec } from '../../src/sim/simJobs';
import { SimulationError, simulate } from '../../src/sim/simulator';
import { loadTrace } from '../../src/sim/traceLoader';

const ROOT = path.join(__dirname, '..', '..');
const TWO_HOSTS = loadCluster(path.join(ROOT, 'test', 'fixtures', 'sim', 'two-hosts.json'));

function spec(index: number, submitSec: number, durationSec: number, gpus: number, importance: Importance = 'normal', estimateSec = durationSec, cluster = TWO_HOSTS): SimJobSpec {
  const hostSec = Float64Array.from(cluster.hosts, (h) => durationSec / h.speed);
  const identity = { identity: `proj-${index}:${gpus}`, script: `proj-${index}/train.py`, args: [], user: 'user-1', hostSec };
  return { index, line: index + 2, submitSec, durationSec, gpus, importance, estimateSec, fastestSec: durationSec / fastestFitSpeed(TWO_HOSTS, gpus), ...identity };
}

async function policy(name: string, cluster: Cluster = TWO_HOSTS): Promise<PolicyInstance> {
  const [entry] = resolvePolicies([name]);
  return entry.create!({ seed: 7, agingMs: 3_600_000, cluster });
}

// Hosts "slow" (2 GPUs, speed 1, listed first) and "fast" (2 GPUs, speed 2).
// A: t=0, 100 s, 2 GPUs · B: t=0, 60 s, 2 GPUs · C: t=10, 40 s, 1 GPU.
// Estimates: A 3 h, B 2 h, C 10 min (only the priority queues look at them).
const ABC = [spec(0, 0, 100, 2, 'high', 10_800), spec(1, 0, 60, 2, 'low', 7_200), spec(2, 10, 40, 1, 'normal', 600)];

test('hand-computed: FCFS with first fit', async () => {
  // t=0: A → slow (ends 100), B → fast (ends 30). t=10: C finds no GPU. t=30: C → fast, 40/2 = 20 s, ends 50.
  const run = simulate(ABC, TWO_HOSTS, await policy('fcfs-firstfit'));
  assert.deepEqual(
    run.outcomes.map((o) => [o.host, o.startSec, o.endSec]),
    [
      ['slow', 0, 100],
      ['fast', 0, 30],
      ['fast', 30, 50],
    ],
  );
  const m = policyMetrics(ABC, TWO_HOSTS, run);
  assert.equal(m.avgJct, (100 + 30 + 40) / 3);
  assert.equal(m.makespan, 100);
  // Busy GPU-seconds 2·100 + 2·30 + 1·20 = 280 of 4 GPUs × 100 s.
  assert.equal(m.gpuUtil, 0.7);
  // Fastest-host durations 50, 30, 20.
  assert.equal(m.avgSlowdown, (100 / 50 + 30 / 30 + 40 / 20) / 3);
  assert.equal(m.p95Jct, 100);
  assert.equal(m.trainStepsPerSec, 0);
});

test('hand-computed: oracle SJF with first fit', async () => {
  // t=0: B (60 s) first → slow, ends 60; A → fast, ends 50. t=50: C → fast, ends 70.
  const run = simulate(ABC, TWO_HOSTS, await policy('sjf-firstfit'));
  assert.deepEqual(
    run.outcomes.map((o) => [o.host, o.endSec]),
    [
      ['fast', 50],
      ['slow', 60],
      ['fast', 70],
    ],
  );
  const m = policyMetrics(ABC, TWO_HOSTS, run);
  assert.equal(m.avgJct, (50 + 60 + 60) / 3);
  assert.equal(m.gpuUtil, (2 * 50 + 2 * 60 + 20) / (4 * 70));
});

test('hand-computed: priority queues (classified at submission) with the fastest host', () => {
  // The default policy makes A (importance high) High, B (low, 2 h) Low and C Medium; by estimate
  // alone B would go first. t=0: A → fast (ends 50), B → slow (ends 60). t=10: C waits. t=50: C → fast, ends 70.
  const classifier = new PriorityClassifier();
  const classified: string[] = [];
  const classify = classifier.classify.bind(classifier);
  classifier.classify = (f) => {
    const c = classify(f);
    classified.push(c.priority);
    return c;
  };
  const instance: PolicyInstance = { discipline: priorityDiscipline(classifier, 3_600_000), placement: new FastestPlacement() };
  const run = simulate(ABC, TWO_HOSTS, instance);
  assert.deepEqual(
    run.outcomes.map((o) => [o.host, o.startSec, o.endSec]),
    [
      ['fast', 0, 50],
      ['slow', 0, 60],
      ['fast', 50, 70],
    ],
  );
  // Once per job, at submission, however many rounds the job waited through.
  assert.deepEqual(classified, ['high', 'low', 'medium']);
  assert.equal(run.events, 6);
  assert.equal(run.decisionUs.length, 3);
});

test('invariants hold on the first 300 jobs of a real slice under every policy', async () => {
  const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', 'hetero-24.json'));
  const { jobs } = buildWorkload(loadTrace(path.join(ROOT, 'bench', 'traces', 'philly-103959.csv')).jobs, cluster, 11, 300);
  assert.equal(jobs.length, 300);
  const capacity = new Map(cluster.hosts.map((h) => [h.name, h]));
  for (const name of defaultPolicyNames()) {
    const events: SimEvent[] = [];
    const run = simulate(jobs, cluster, await policy(name, cluster), { onEvent: (e) => events.push(e) });
    const held = new Map(cluster.hosts.map((h) => [h.name, new Set<number>()]));
    const seen = jobs.map(() => ({ submit: NaN, start: NaN, finish: NaN, host: '' }));
    let clock = -Infinity;
    let gpuSeconds = 0;
    for (const e of events) {
      assert.ok(e.atSec >= clock, `${name}: time never runs backwards`);
      clock = e.atSec;
      const s = seen[e.job];
      if (e.kind === 'submit') {
        assert.ok(Number.isNaN(s.submit), `${name}: job ${e.job} submitted once`);
        s.submit = e.atSec;
        continue;
      }
      const gpus = held.get(e.host)!;
      if (e.kind === 'start') {
        assert.ok(Number.isNaN(s.start) && s.submit <= e.atSec, `${name}: job ${e.job} starts once, after submission`);
        assert.equal(e.gpuIndices.length, jobs[e.job].gpus);
        for (const g of e.gpuIndices) {
          assert.ok(g >= 0 && g < capacity.get(e.host)!.gpus && !gpus.has(g), `${name}: GPU ${g} on ${e.host} is real and free`);
          gpus.add(g);
        }
        Object.assign(s, { start: e.atSec, host: e.host });
      } else {
        assert.ok(Number.isNaN(s.finish) && s.host === e.host, `${name}: job ${e.job} finishes once, where it ran`);
        e.gpuIndices.forEach((g) => gpus.delete(g));
        s.finish = e.atSec;
        const ran = e.atSec - s.start;
        assert.ok(Math.abs(ran - jobs[e.job].durationSec / capacity.get(e.host)!.speed) < 1e-6 * ran, `${name}: run time is duration / speed`);
        assert.ok(e.atSec - s.submit >= jobs[e.job].fastestSec - 1e-6, `${name}: JCT is at least the fastest-host duration`);
        gpuSeconds += jobs[e.job].gpus * ran;
      }
    }
    assert.ok(seen.every((s) => s.finish >= s.start), `${name}: every job completed`);
    assert.ok([...held.values()].every((g) => g.size === 0), `${name}: every GPU released`);
    // Conservation: the GPU-seconds the events show are what the utilisation reports.
    const m = policyMetrics(jobs, cluster, run);
    assert.ok(Math.abs(gpuSeconds - busyGpuSeconds(jobs, run)) < 1e-6 * gpuSeconds);
    assert.ok(Math.abs(m.gpuUtil * totalGpus(cluster) * m.makespan - gpuSeconds) < 1e-6 * gpuSeconds);
    assert.ok(m.gpuUtil > 0 && m.gpuUtil <= 1 && m.avgSlowdown >= 1);
  }
});

test('jobs wider than every host are counted and never submitted', () => {
  const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', 'hetero-64.json'));
  const trace = loadTrace(path.join(ROOT, 'bench', 'traces', 'philly-7f04ca.csv'));
  const workload = buildWorkload(trace.jobs, cluster, 1);
  const wide = trace.jobs.filter((j) => j.gpus > 8).length;
  assert.ok(wide > 0);
  assert.equal(workload.unplaceable, wide);
  assert.equal(workload.jobs.length, trace.jobs.length - wide);
  assert.ok(workload.jobs.every((j) => j.gpus <= 8));
});

test('the same seed gives the same numbers; another seed changes only what depends on it', async () => {
  const trace = loadTrace(path.join(ROOT, 'bench', 'traces', 'philly-ed69ec.csv'));
  const cluster = loadCluster(path.join(ROOT, 'bench', 'clusters', 'homo-8.json'));
  const bench = async (seed: number) => {
    const { report } = await runBench({ trace, traceLabel: 't', cluster, policies: resolvePolicies(defaultPolicyNames()), seed, maxJobs: 400, agingMinutes: 60 });
    // Decision latency and training speed are wall-clock rates: the only numbers that may differ between identical runs.
    return Object.fromEntries(Object.entries(report.policies).map(([name, m]) => [name, { ...m, decisionP50Us: 0, trainStepsPerSec: 0 }]));
  };
  const first = await bench(3);
  assert.deepEqual(await bench(3), first);
  const other = await bench(4);
  // FCFS and SJF ignore the synthetic features; the priority queues see different ones.
  assert.deepEqual(other['fcfs-firstfit'], first['fcfs-firstfit']);
  assert.deepEqual(other['sjf-firstfit'], first['sjf-firstfit']);
  assert.notDeepEqual(other['priority-firstfit'], first['priority-firstfit']);
});

test('a placement that waits with the cluster idle is reported, not silently dropped', () => {
  const stubborn: Placement = { name: 'stubborn', choose: () => ({ kind: 'wait', reason: 'never' }) };
  assert.throws(() => simulate(ABC, TWO_HOSTS, { discipline: fcfsDiscipline(), placement: stubborn }), (err: Error) => {
    assert.ok(err instanceof SimulationError);
    assert.equal(err.message, "Placement 'stubborn' left 3 job(s) waiting after every other job had finished.");
    return true;
  });
});

test('the policy names are the contract, and every one is available', () => {
  assert.deepEqual(
    POLICIES.map((p) => p.name),
    ['fcfs-firstfit', 'sjf-firstfit', 'oracle', 'priority-firstfit', 'priority-bestfit', 'priority-least-loaded', 'priority-fastest', 'priority-random', 'learned-soonest', 'dqn'],
  );
  assert.deepEqual(defaultPolicyNames(), POLICIES.map((p) => p.name));
  assert.deepEqual(resolvePolicies(['fcfs-firstfit', 'dqn']).map((p) => p.name), ['fcfs-firstfit', 'dqn']);
  assert.throws(() => resolvePolicies(['fifo']), /Unknown policy 'fifo'; known policies: fcfs-firstfit, sjf-firstfit, .*, dqn\./);
  assert.deepEqual(resolvePolicies(['sjf-firstfit', 'sjf-firstfit']).map((p) => p.name), ['sjf-firstfit']);
});

test('a slurm host runs each job after a seeded queue wait, which counts in its JCT and is learned as the expected wait', async () => {
  const cluster: Cluster = { name: 'slurm-only', hosts: [{ name: 'q', gpus: 4, speed: 1, kind: 'slurm', queueDelay: { medianSec: 600, sigma: 0.5 } }] };
  const jobs = [0, 1, 2, 3].map((i) => spec(i, i * 10, 100, 1, 'normal', 100, cluster));
  const seen: Array<number | undefined> = [];
  // A placement that records the expected wait it is offered, then takes the first host.
  const inner = await policy('fcfs-firstfit', cluster);
  const recording: PolicyInstance = {
    ...inner,
    placement: { name: 'recording', choose: (job, feasible, all) => (seen.push(feasible[0].expectedWaitSec), inner.placement.choose(job, feasible, all)) },
  };
  const run = simulate(jobs, cluster, recording, { seed: 3 });
  const waits = run.outcomes.map((o, i) => o.startSec - jobs[i].submitSec);
  assert.ok(waits.every((w) => w > 0), `every job waited: ${waits.join(', ')}`);
  assert.ok(run.outcomes.every((o) => Math.abs(o.endSec - o.startSec - 100) < 1e-6), 'then ran its full duration');
  assert.equal(new Set(waits).size, 4, 'each wait is its own draw');
  assert.deepEqual(seen, [undefined, undefined, undefined, undefined], 'nothing is known before a job has been seen through');
  const again = simulate(jobs, cluster, await policy('fcfs-firstfit', cluster), { seed: 3 });
  assert.deepEqual(again.outcomes, run.outcomes, 'same seed, same waits');
  const other = simulate(jobs, cluster, await policy('fcfs-firstfit', cluster), { seed: 4 });
  assert.notDeepEqual(other.outcomes, run.outcomes);
  // Once jobs have finished, later rounds are offered their mean wait.
  const late = [...jobs, spec(4, 100_000, 100, 1, 'normal', 100, cluster)];
  const seenLate: Array<number | undefined> = [];
  const inner2 = await policy('fcfs-firstfit', cluster);
  simulate(late, cluster, { ...inner2, placement: { name: 'r', choose: (job, f, all) => (seenLate.push(f[0].expectedWaitSec), inner2.placement.choose(job, f, all)) } }, { seed: 3 });
  const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
  assert.ok(Math.abs((seenLate[4] ?? 0) - mean) < 1e-6, `expected wait ${seenLate[4]} vs observed mean ${mean}`);
});

test('typed hosts: jobs run their true time there, GPUs are never shared, and finish events carry the run time', async () => {
  // A typed Slurm host too, so the queue wait shows apart from the run time.
  const cluster: Cluster = {
    name: 'typed',
    hosts: [
      { name: 'v100', gpus: 4, speed: 1, gpuType: 'v100' },
      { name: 'k80', gpus: 8, speed: 1, gpuType: 'k80' },
      { name: 'q', gpus: 4, speed: 1, gpuType: 'p100', kind: 'slurm', queueDelay: { medianSec: 300, sigma: 1 } },
    ],
  };
  const { jobs } = buildWorkload(loadTrace(path.join(ROOT, 'bench', 'traces', 'philly-103959.csv')).jobs, cluster, 5, 300);
  assert.ok(jobs.every((j) => j.model !== undefined));
  for (const name of ['fcfs-firstfit', 'priority-least-loaded', 'oracle']) {
    const events: SimEvent[] = [];
    const run = simulate(jobs, cluster, await policy(name, cluster), { seed: 2, onEvent: (e) => events.push(e) });
    const held = new Map(cluster.hosts.map((h) => [h.name, new Set<number>()]));
    const dispatched: number[] = [];
    const submitted: number[] = [];
    for (const e of events) {
      if (e.kind === 'submit') {
        submitted[e.job] = e.atSec;
      } else if (e.kind === 'start') {
        assert.ok(e.atSec >= submitted[e.job], `${name}: job ${e.job} starts after its submission`);
        e.gpuIndices.forEach((g) => assert.ok(!held.get(e.host)!.has(g), `${name}: GPU ${g} on ${e.host} is free`));
        e.gpuIndices.forEach((g) => held.get(e.host)!.add(g));
        dispatched[e.job] = e.atSec;
      } else {
        e.gpuIndices.forEach((g) => held.get(e.host)!.delete(g));
        const hostSec = jobs[e.job].hostSec[cluster.hosts.findIndex((h) => h.name === e.host)];
        const o = run.outcomes[e.job];
        assert.ok(Math.abs(e.runSec - hostSec) <= 1e-9 * hostSec, `${name}: runSec is the true run time on ${e.host}`);
        assert.ok(Math.abs(o.endSec - o.startSec - hostSec) <= 1e-6 * hostSec, `${name}: end − start = hostSec`);
        const wait = o.startSec - dispatched[e.job];
        assert.ok(e.host === 'q' ? wait > 0 : wait === 0, `${name}: only the Slurm host adds a wait (${wait} s on ${e.host})`);
      }
    }
    assert.ok([...held.values()].every((g) => g.size === 0), `${name}: every GPU released`);
  }
});

test('jobs built for one cluster are refused on another, by name, rather than run at wrong speeds', async () => {
  const other: Cluster = { name: 'three', hosts: [...TWO_HOSTS.hosts, { name: 'x', gpus: 2, speed: 1 }] };
  assert.throws(
    () => simulate(ABC, other, { discipline: fcfsDiscipline(), placement: new FastestPlacement() }),
    /^SimulationError: job 0 \(trace line 2\): hostSec must hold one run time per host of three \(3\); got 2\. Build the jobs for this cluster\.$/,
  );
});
