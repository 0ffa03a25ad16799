import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatchOrder } from '../../src/core/jobQueues';
import { MostFreeGpusPlacement, type Placement } from '../../src/core/placement';
import { buildCandidates, planDispatch, type HostOffer } from '../../src/core/scheduler';
import { makeJob } from '../support/builders';

const offer = (name: string, gpus: number, over: Partial<HostOffer> = {}): HostOffer => ({
  name,
  online: true,
  gpuIndices: Array.from({ length: gpus }, (_, i) => i),
  speed: 1,
  maxJobs: 8,
  ...over,
});

test('free GPUs are derived from running jobs, and offline hosts are not candidates', () => {
  const running = makeJob({ state: 'running', host: 'a', gpuIndices: [0, 2] });
  const elsewhere = makeJob({ state: 'running', host: 'b', gpuIndices: [1] });
  const done = makeJob({ state: 'succeeded', host: 'a', gpuIndices: [1] });
  const candidates = buildCandidates([offer('a', 4), offer('b', 2), offer('c', 8, { online: false })], [running, elsewhere, done]);
  assert.deepEqual(
    candidates.map((c) => [c.host, c.freeGpus, c.runningJobs]),
    [
      ['a', [1, 3], 1],
      ['b', [0], 1],
    ],
  );
});

test('never gives one GPU to two jobs in the same round, and backfills smaller jobs', () => {
  const jobs = [
    makeJob({ id: 'big', priority: 'high', gpus: 3 }),
    makeJob({ id: 'two', priority: 'high', gpus: 2 }),
    makeJob({ id: 'one', priority: 'low', gpus: 1 }),
    makeJob({ id: 'cpu', priority: 'low', gpus: 0, createdAt: 1 }),
  ];
  const plan = planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates([offer('a', 4)], []), new MostFreeGpusPlacement());
  assert.deepEqual(
    plan.launches.map((l) => [l.job.id, l.gpuIndices]),
    [
      ['big', [0, 1, 2]],
      ['one', [3]],
      ['cpu', []],
    ],
  );
  assert.match(plan.waiting.get('two')!, /Waiting for 2 free GPUs/);
  const given = plan.launches.flatMap((l) => l.gpuIndices);
  assert.equal(new Set(given).size, given.length);
});

test('a job larger than every host stays queued with a visible reason', () => {
  const plan = planDispatch(dispatchOrder([makeJob({ id: 'huge', gpus: 16 })], 0, 0), buildCandidates([offer('a', 4), offer('b', 8)], []), new MostFreeGpusPlacement());
  assert.equal(plan.launches.length, 0);
  assert.equal(plan.waiting.get('huge'), 'Needs 16 GPUs on one host; the largest host has 8.');
});

test('job slots limit concurrency even for CPU jobs', () => {
  const jobs = [makeJob({ id: 'c1', gpus: 0 }), makeJob({ id: 'c2', gpus: 0 }), makeJob({ id: 'c3', gpus: 0 })];
  const plan = planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates([offer('a', 0, { maxJobs: 2 })], []), new MostFreeGpusPlacement());
  assert.deepEqual(plan.launches.map((l) => l.job.id), ['c1', 'c2']);
  assert.match(plan.waiting.get('c3')!, /free job slot/);
});

test('the heuristic picks the host with the most free GPUs; a placement choosing an infeasible host is refused', () => {
  const candidates = buildCandidates([offer('small', 2), offer('large', 8)], []);
  const plan = planDispatch(dispatchOrder([makeJob({ id: 'j' })], 0, 0), candidates, new MostFreeGpusPlacement());
  assert.equal(plan.launches[0].host, 'large');

  const rogue: Placement = { name: 'rogue', choose: () => ({ kind: 'place', host: 'nowhere' }) };
  const bad = planDispatch(dispatchOrder([makeJob({ id: 'k' })], 0, 0), candidates, rogue);
  assert.equal(bad.launches.length, 0);
  assert.match(bad.waiting.get('k')!, /chose 'nowhere'/);
});

test('no online host: every job waits and says so', () => {
  const plan = planDispatch(dispatchOrder([makeJob({ id: 'j' })], 0, 0), [], new MostFreeGpusPlacement());
  assert.equal(plan.waiting.get('j'), 'No host is online.');
});

test('without wait reasons (the simulator) the plan launches exactly the same jobs, CPU jobs on full GPUs included', () => {
  const rng = (() => {
    let x = 7;
    return () => (x = (x * 48271) % 2147483647) / 2147483647;
  })();
  for (let round = 0; round < 50; round++) {
    const jobs = Array.from({ length: 30 }, (_, i) =>
      makeJob({ id: `j${i}`, gpus: Math.floor(rng() * 5), priority: (['high', 'medium', 'low'] as const)[i % 3], runtimeSec: 60 + Math.floor(rng() * 7200) }),
    );
    const busy = jobs.slice(0, 6).map((j, i) => ({ ...j, id: `r${i}`, state: 'running' as const, host: i % 2 ? 'a' : 'b', gpuIndices: [i] }));
    const offers = [offer('a', 4, { maxJobs: 3 + (round % 4) }), offer('b', 8, { maxJobs: 2 + (round % 5) })];
    const order = dispatchOrder(jobs.slice(6), 0, 0);
    const launched = (explainWaits: boolean) => {
      const plan = planDispatch(order, buildCandidates(offers, busy), new MostFreeGpusPlacement(), { explainWaits });
      return { launches: plan.launches.map((l) => `${l.job.id}@${l.host}:${l.gpuIndices.join(',')}`), waiting: plan.waiting.size };
    };
    const explained = launched(true);
    const silent = launched(false);
    assert.deepEqual(silent.launches, explained.launches, `round ${round}`);
    assert.equal(silent.waiting, 0);
    assert.equal(explained.waiting, 24 - explained.launches.length);
  }
  // A full cluster still starts a CPU job when a job slot is free.
  const cpu = makeJob({ id: 'cpu', gpus: 0 });
  const full = buildCandidates([offer('a', 1)], [makeJob({ state: 'running', host: 'a', gpuIndices: [0] })]);
  assert.deepEqual(planDispatch(dispatchOrder([makeJob({ id: 'wide', gpus: 1 }), cpu], 0, 0), full, new MostFreeGpusPlacement(), { explainWaits: false }).launches.map((l) => l.job.id), ['cpu']);
});
