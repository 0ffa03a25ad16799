import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planEtas, type EtaModel } from '../../src/core/etaPlanner';
import type { HostRef, RunQuery } from '../../src/core/runtimeModel';
import type { HostOffer } from '../../src/core/scheduler';
import { makeJob } from '../support/builders';

const offer = (name: string, gpus: number, speed = 1, over: Partial<HostOffer> = {}): HostOffer => ({
  name,
  online: true,
  gpuIndices: Array.from({ length: gpus }, (_, i) => i),
  speed,
  maxJobs: 8,
  ...over,
});

/** The estimate is the truth: base time = estimate, time on a host = estimate ÷ its declared speed. */
const onHosts = (q: RunQuery, hosts: readonly HostRef[]) =>
  hosts.map((h) => {
    const sec = (q.estimateSec ?? 3600) / h.declaredSpeed;
    return { medianSec: sec, p80Sec: sec, runs: 0, scriptRuns: 0 };
  });
const exact: EtaModel = {
  predictOn: onHosts,
  predictAll: (q, hosts) => ({ base: { medianSec: q.estimateSec ?? 3600, p80Sec: q.estimateSec ?? 3600, runs: 0, scriptRuns: 0 }, onHosts: onHosts(q, hosts) }),
};

const NOW = 1_000_000;

test('two hosts, three jobs: shortest first, each to the host where it ends soonest, the third when a GPU frees', () => {
  const jobs = [
    makeJob({ id: 'c', runtimeSec: 1800 }),
    makeJob({ id: 'a', runtimeSec: 600 }),
    makeJob({ id: 'b', runtimeSec: 1200 }),
  ];
  const plan = planEtas({ jobs, offers: [offer('h1', 1), offer('h2', 1, 2)], nowMs: NOW, agingMs: 0 }, exact);
  // a (600 s) goes first, to the faster h2 (300 s); b to h1 (1,200 s); c starts on h2 when a ends, 900 s there.
  assert.deepEqual(Object.fromEntries(plan.queued), {
    a: { startMs: NOW, endMs: NOW + 300_000, host: 'h2' },
    b: { startMs: NOW, endMs: NOW + 1_200_000, host: 'h1' },
    c: { startMs: NOW + 300_000, endMs: NOW + 1_200_000, host: 'h2' },
  });
  assert.equal(plan.drainMs, NOW + 1_200_000);
  assert.equal(plan.unplanned, 0);
});

test('a running job ends at its start plus the prediction; overdue, at now plus a tenth; queued jobs follow it', () => {
  const running = makeJob({ id: 'r', state: 'running', host: 'h1', gpuIndices: [0], startedAt: NOW - 400_000, runtimeSec: 1000 });
  const late = makeJob({ id: 'late', state: 'running', host: 'h2', gpuIndices: [0], startedAt: NOW - 5_000_000, runtimeSec: 1000 });
  const next = makeJob({ id: 'next', runtimeSec: 100 });
  const plan = planEtas({ jobs: [running, late, next], offers: [offer('h1', 1), offer('h2', 1)], nowMs: NOW, agingMs: 0 }, exact);
  assert.deepEqual(plan.running.get('r'), { endMs: NOW + 600_000, progress: 0.4 });
  assert.deepEqual(plan.running.get('late'), { endMs: NOW + 100_000, progress: 0.99 });
  assert.deepEqual(plan.queued.get('next'), { startMs: NOW + 100_000, endMs: NOW + 200_000, host: 'h2' });
  assert.equal(plan.drainMs, NOW + 600_000);
});

test('a job too wide for every host gets no ETA, and does not hold up the others', () => {
  const jobs = [makeJob({ id: 'wide', gpus: 16, priority: 'high' }), makeJob({ id: 'fits', gpus: 1, runtimeSec: 60 })];
  const plan = planEtas({ jobs, offers: [offer('h1', 4), offer('off', 32, 1, { online: false })], nowMs: NOW, agingMs: 0 }, exact);
  assert.equal(plan.queued.has('wide'), false);
  assert.deepEqual(plan.queued.get('fits'), { startMs: NOW, endMs: NOW + 60_000, host: 'h1' });
  assert.equal(plan.unplanned, 1);
  assert.equal(plan.drainMs, NOW + 60_000);
});

test('nothing queued or running: no drain time', () => {
  const plan = planEtas({ jobs: [makeJob({ state: 'succeeded' })], offers: [offer('h1', 1)], nowMs: NOW, agingMs: 0 }, exact);
  assert.equal(plan.drainMs, undefined);
  assert.equal(plan.queued.size + plan.running.size, 0);
});
