import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatchOrder } from '../../src/core/jobQueues';
import { MostFreeGpusPlacement, type HostCandidate, type Placement } from '../../src/core/placement';
import { BestFitPlacement, FastestPlacement, FirstFitPlacement, RandomPlacement } from '../../src/core/placementPolicies';
import { buildCandidates, planDispatch } from '../../src/core/scheduler';
import { makeJob } from '../support/builders';

const host = (name: string, free: number, speed = 1, total = 8): HostCandidate => ({
  host: name,
  totalGpus: total,
  freeGpus: Array.from({ length: free }, (_, i) => i),
  speed,
  runningJobs: total - free,
  maxJobs: total,
});

// Listed in the order the hosts are configured; every one can take a 2-GPU job.
const FEASIBLE = [host('roomy-slow', 6, 0.5), host('tight-mid', 2, 1.0), host('mid-fast', 4, 1.6), host('tight-fast', 3, 1.6)];
const twoGpus = makeJob({ gpus: 2 });

function chosen(placement: Placement, feasible: HostCandidate[] = FEASIBLE): string {
  const decision = placement.choose(twoGpus, feasible, feasible);
  assert.equal(decision.kind, 'place');
  return decision.kind === 'place' ? decision.host : '';
}

test('first-fit takes the first host in configured order', () => {
  assert.equal(chosen(new FirstFitPlacement()), 'roomy-slow');
});

test('best-fit takes the host left with the fewest free GPUs', () => {
  assert.equal(chosen(new BestFitPlacement()), 'tight-mid');
  // Equally tight: the faster one.
  assert.equal(chosen(new BestFitPlacement(), [host('a', 3, 1.0), host('b', 3, 1.6)]), 'b');
});

test('least-loaded (the shipped default) takes the host with the most free GPUs', () => {
  assert.equal(chosen(new MostFreeGpusPlacement()), 'roomy-slow');
});

test('fastest takes the fastest host, the tighter of two equally fast ones', () => {
  assert.equal(chosen(new FastestPlacement()), 'tight-fast');
  assert.equal(chosen(new FastestPlacement(), [host('a', 8, 1.0), host('b', 2, 1.0)]), 'b');
});

test('random spreads over exactly the feasible hosts, as its generator says', () => {
  const draws = [0, 0.26, 0.5, 0.99, 0.999999];
  let i = 0;
  const placement = new RandomPlacement(() => draws[i++]);
  assert.deepEqual(
    draws.map(() => chosen(placement)),
    ['roomy-slow', 'tight-mid', 'mid-fast', 'tight-fast', 'tight-fast'],
  );
  // A generator at its (exclusive) upper bound still yields a feasible host.
  assert.equal(chosen(new RandomPlacement(() => 1)), 'tight-fast');
});

test('through planDispatch, best-fit packs where least-loaded spreads', () => {
  const offer = (name: string) => ({ name, online: true, gpuIndices: [0, 1, 2, 3], speed: 1, maxJobs: 4 });
  const jobs = [makeJob({ id: 'a', gpus: 2 }), makeJob({ id: 'b', gpus: 2 })];
  const hostsOf = (placement: Placement) =>
    planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates([offer('h1'), offer('h2')], []), placement).launches.map((l) => `${l.job.id}@${l.host}`);
  assert.deepEqual(hostsOf(new BestFitPlacement()), ['a@h1', 'b@h1']);
  assert.deepEqual(hostsOf(new MostFreeGpusPlacement()), ['a@h1', 'b@h2']);
});
