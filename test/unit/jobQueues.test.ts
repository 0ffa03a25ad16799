import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatchOrder, effectivePriority, groupJobs } from '../../src/core/jobQueues';
import { makeJob } from '../support/builders';

const HOUR = 3_600_000;

test('dispatch order: High before Medium before Low, shortest estimate first within a level, then oldest', () => {
  const jobs = [
    makeJob({ id: 'low', priority: 'low', runtimeSec: 60 }),
    makeJob({ id: 'med-long', priority: 'medium', runtimeSec: 7200 }),
    makeJob({ id: 'high', priority: 'high', runtimeSec: 99_999 }),
    makeJob({ id: 'med-short-new', priority: 'medium', runtimeSec: 600, createdAt: 5 }),
    makeJob({ id: 'med-short-old', priority: 'medium', runtimeSec: 600, createdAt: 1 }),
    makeJob({ id: 'running', priority: 'high', state: 'running' }),
  ];
  assert.deepEqual(
    dispatchOrder(jobs, 10, 0).map((e) => e.job.id),
    ['high', 'med-short-old', 'med-short-new', 'med-long', 'low'],
  );
});

test('aging raises a waiting job one level per period and never above High', () => {
  const job = makeJob({ priority: 'low', createdAt: 0 });
  assert.equal(effectivePriority(job, HOUR - 1, HOUR).effective, 'low');
  assert.deepEqual(
    { p: effectivePriority(job, HOUR, HOUR).effective, l: effectivePriority(job, HOUR, HOUR).promotedLevels },
    { p: 'medium', l: 1 },
  );
  assert.equal(effectivePriority(job, 2 * HOUR, HOUR).effective, 'high');
  assert.equal(effectivePriority(job, 50 * HOUR, HOUR).promotedLevels, 2);
  assert.equal(effectivePriority(job, 50 * HOUR, 0).effective, 'low', 'agingMs 0 turns aging off');
});

test('an aged Low job overtakes fresh Medium jobs, so nothing starves', () => {
  const old = makeJob({ id: 'old-low', priority: 'low', createdAt: 0, runtimeSec: 10_000 });
  const fresh = makeJob({ id: 'fresh-med', priority: 'medium', createdAt: 2 * HOUR, runtimeSec: 60 });
  const order = dispatchOrder([fresh, old], 2 * HOUR, HOUR);
  assert.deepEqual(order.map((e) => e.job.id), ['old-low', 'fresh-med']);
});

test('groups: queued by effective priority, running by start, finished newest first and capped', () => {
  const jobs = [
    makeJob({ id: 'q1', priority: 'high' }),
    makeJob({ id: 'q2', priority: 'low' }),
    makeJob({ id: 'r2', state: 'running', startedAt: 20 }),
    makeJob({ id: 'r1', state: 'running', startedAt: 10 }),
    ...Array.from({ length: 5 }, (_, i) => makeJob({ id: `f${i}`, state: i % 2 ? 'failed' : 'succeeded', endedAt: 100 + i })),
  ];
  const groups = groupJobs(jobs, 0, 0, 3);
  assert.deepEqual(groups.queued.high.map((e) => e.job.id), ['q1']);
  assert.deepEqual(groups.queued.medium, []);
  assert.deepEqual(groups.queued.low.map((e) => e.job.id), ['q2']);
  assert.deepEqual(groups.running.map((j) => j.id), ['r1', 'r2']);
  assert.deepEqual(groups.finished.map((j) => j.id), ['f4', 'f3', 'f2']);
  assert.equal(groups.finishedTotal, 5);
});

test('setting a priority by hand restarts the aging clock, so a job moved down does not bounce back', () => {
  const job = makeJob({ priority: 'low', createdAt: 0, prioritySetAt: 3 * HOUR });
  assert.equal(effectivePriority(job, 3 * HOUR + 1, HOUR).effective, 'low');
  assert.equal(effectivePriority(job, 4 * HOUR, HOUR).effective, 'medium');
});

test('within a level the tie-break is the given run time (the learned prediction), not the estimate', () => {
  const jobs = [
    makeJob({ id: 'says-short', priority: 'medium', runtimeSec: 60 }),
    makeJob({ id: 'says-long', priority: 'medium', runtimeSec: 7200 }),
    makeJob({ id: 'high', priority: 'high', runtimeSec: 99_999 }),
  ];
  const learned: Record<string, number> = { 'says-short': 5000, 'says-long': 300, high: 1 };
  assert.deepEqual(
    dispatchOrder(jobs, 0, 0, (j) => learned[j.id]).map((e) => e.job.id),
    ['high', 'says-long', 'says-short'],
  );
  assert.deepEqual(
    groupJobs(jobs, 0, 0, 0, (j) => learned[j.id]).queued.medium.map((e) => e.job.id),
    ['says-long', 'says-short'],
  );
  assert.deepEqual(dispatchOrder(jobs, 0, 0).map((e) => e.job.id), ['high', 'says-short', 'says-long'], 'the estimate by default');
});
