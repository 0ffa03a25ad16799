import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostCandidate } from '../../src/core/placement';
import { FEATURE_COUNT, FEATURE_NAMES, RoundSummary } from '../../src/agent/encoder';
import { makeJob } from '../support/builders';

function host(name: string, over: Partial<HostCandidate> = {}): HostCandidate {
  return { host: name, totalGpus: 4, freeGpus: [0, 1, 2, 3], speed: 1, runningJobs: 0, maxJobs: 4, ...over };
}

const col = (name: string): number => FEATURE_NAMES.indexOf(name);
const row = (rows: Float32Array, i: number): Float32Array => rows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);

test('one row per feasible host, then the wait row; every feature is named', () => {
  assert.equal(FEATURE_NAMES.length, FEATURE_COUNT);
  const job = makeJob({ runtimeSec: 7200 });
  const fast = host('fast', { speed: 2 });
  const slow = host('slow', { speed: 1 });
  const busy = host('busy', { freeGpus: [], runningJobs: 4, speed: 4 });
  const round = new RoundSummary({ nowMs: 0, queued: [job], running: [] }, 3600);
  const enc = round.encode(job, [fast, slow], [fast, slow, busy], { allowWait: true, heldSec: 0, holdCapSec: 3600 });
  assert.equal(enc.count, 3);
  assert.deepEqual(enc.hosts, ['fast', 'slow', undefined]);
  assert.equal(row(enc.rows, 2)[col('isWait')], 1);
  assert.equal(row(enc.rows, 0)[col('isWait')], 0);
  // Speeds are relative to the fastest host that fits the job, feasible or not.
  assert.equal(row(enc.rows, 0)[col('hostSpeed')], 0.5);
  assert.equal(row(enc.rows, 1)[col('hostSpeed')], 0.25);
  assert.equal(row(enc.rows, 0)[col('isFastestFeasible')], 1);
  assert.equal(row(enc.rows, 1)[col('isFastestFeasible')], 0);
  assert.ok(enc.rows.every((v) => Number.isFinite(v)));

  const noWait = round.encode(job, [fast, slow], [fast, slow, busy], { allowWait: false, heldSec: 0, holdCapSec: 3600 });
  assert.deepEqual(noWait.hosts, ['fast', 'slow']);
});

test('features are scale-free: the same situation in minutes or in days encodes the same', () => {
  const encode = (scale: number) => {
    const job = makeJob({ id: 'a', runtimeSec: 2 * scale, createdAt: 0 });
    const other = makeJob({ id: 'b', runtimeSec: 1 * scale, createdAt: 0 });
    const run = makeJob({ id: 'r', runtimeSec: 3 * scale, state: 'running', host: 'h1', startedAt: 0 });
    const h1 = host('h1', { freeGpus: [1, 2, 3], runningJobs: 1, speed: 1.6 });
    const h2 = host('h2', { speed: 0.5 });
    const round = new RoundSummary({ nowMs: 1000 * scale, queued: [job, other], running: [run] }, scale);
    return round.encode(job, [h1, h2], [h1, h2], { allowWait: true, heldSec: 0.2 * scale, holdCapSec: scale }).rows;
  };
  const a = encode(60);
  const b = encode(86_400);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `feature ${FEATURE_NAMES[i % FEATURE_COUNT]} differs: ${v} vs ${b[i]}`));
});

test('queue features: rank among queued estimates and shorter jobs that could use the free GPUs', () => {
  const long = makeJob({ runtimeSec: 10_000 });
  const queued = [long, makeJob({ runtimeSec: 100 }), makeJob({ runtimeSec: 200 }), makeJob({ runtimeSec: 50_000 }), makeJob({ runtimeSec: 300, gpus: 8 })];
  const h = host('h');
  const round = new RoundSummary({ nowMs: 0, queued, running: [] }, 1000);
  const r = round.encode(long, [h], [h], { allowWait: false, heldSec: 0, holdCapSec: 0 }).rows;
  assert.equal(r[col('estimateRank')], 3 / 4);
  // Two shorter 1-GPU jobs fit the 4 free GPUs; the shorter 8-GPU job does not.
  assert.ok(Math.abs(r[col('shorterJobsThatFit')] - Math.log1p(2) / 4) < 1e-6);
});

test('waiting for a faster host scores a gain only when that host frees up soon enough', () => {
  const job = makeJob({ runtimeSec: 10 * 3600 });
  const slow = host('slow', { speed: 0.5 });
  const endsSoon = makeJob({ runtimeSec: 3600, state: 'running', host: 'fast', startedAt: 0, gpus: 4 });
  const fastBusy = host('fast', { speed: 2, freeGpus: [], runningJobs: 1 });
  const soon = new RoundSummary({ nowMs: 0, queued: [job], running: [endsSoon] }, 3600);
  const gainSoon = soon.encode(job, [slow], [slow, fastBusy], { allowWait: true, heldSec: 0, holdCapSec: 3600 }).rows;
  // On the slow host 20 h; the fast one frees in 0.5 h and then runs it in 5 h.
  assert.ok(Math.abs(gainSoon[col('fasterHostGain')] - (20 - 5.5) / 20) < 1e-6);
  assert.ok(Math.abs(gainSoon[FEATURE_COUNT + col('waitBestGain')] - (20 - 5.5) / 20) < 1e-6);

  const endsLate = makeJob({ runtimeSec: 100 * 3600, state: 'running', host: 'fast', startedAt: 0, gpus: 4 });
  const late = new RoundSummary({ nowMs: 0, queued: [job], running: [endsLate] }, 3600);
  const gainLate = late.encode(job, [slow], [slow, fastBusy], { allowWait: true, heldSec: 0, holdCapSec: 3600 }).rows;
  assert.equal(gainLate[col('fasterHostGain')], -1);
});

test('a launch recorded in the round counts as busy until its estimated end', () => {
  const job = makeJob({ runtimeSec: 3600, gpus: 4 });
  const slow = host('slow', { speed: 0.5 });
  const fast = host('fast', { speed: 1, freeGpus: [], runningJobs: 1 });
  const round = new RoundSummary({ nowMs: 0, queued: [job], running: [] }, 3600);
  const before = round.encode(job, [slow], [slow, fast], { allowWait: true, heldSec: 0, holdCapSec: 60 }).rows;
  assert.equal(before[col('fasterHostGain')], -1, 'nothing known frees the fast host');
  round.recordLaunch('fast', makeJob({ runtimeSec: 1800, gpus: 4 }), 1);
  const after = round.encode(job, [slow], [slow, fast], { allowWait: true, heldSec: 0, holdCapSec: 60 }).rows;
  assert.ok(Math.abs(after[col('fasterHostGain')] - (2 - 1.5) / 2) < 1e-6);
});
