/**
 * How long planning the queue's ETAs takes (core/etaPlanner.ts), which the Job Queue does at most once
 * a second: the budget is 20 ms for 500 queued jobs on 20 hosts. Prints a table; timing stays out of
 * the unit tests, where a loaded machine would make it flaky.
 *   node --import tsx scripts/benchEta.ts
 */
import { performance } from 'node:perf_hooks';
import type { Job, Priority } from '../src/core/job';
import { planEtas } from '../src/core/etaPlanner';
import { RuntimeModel } from '../src/core/runtimeModel';
import type { HostOffer } from '../src/core/scheduler';

const NOW = 1_800_000_000_000;
const SCRIPTS = ['train.py', 'finetune.py', 'eval.py', 'sweep.sh', 'pretrain.py'];
const PRIORITIES: Priority[] = ['high', 'medium', 'low'];

/** A deterministic stream, so two runs plan the same queue. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function job(i: number, r: () => number, over: Partial<Job>): Job {
  const script = SCRIPTS[i % SCRIPTS.length];
  return {
    id: `j${i}`,
    name: script,
    script: `/ws/${script}`,
    args: ['--lr', String([1e-3, 3e-4, 1e-4][i % 3]), '--seed', String(i)],
    cwd: '/ws',
    gpus: [0, 1, 1, 2, 4, 8][Math.floor(r() * 6)],
    importance: 'normal',
    runtimeSec: Math.round(600 + r() * 20_000),
    priority: PRIORITIES[i % 3],
    priorityReason: 'bench',
    priorityOverridden: false,
    state: 'queued',
    createdAt: NOW - Math.round(r() * 86_400_000),
    ...over,
  };
}

function scenario(queued: number, hostCount: number) {
  const r = rng(queued * 31 + hostCount);
  const offers: HostOffer[] = Array.from({ length: hostCount }, (_, h) => ({
    name: `lab-${h}`,
    online: true,
    gpuIndices: Array.from({ length: 8 }, (_, g) => g),
    speed: [1, 1.5, 2][h % 3],
    maxJobs: 8,
  }));
  const model = new RuntimeModel();
  for (let i = 0; i < 2000; i++) {
    const j = job(100_000 + i, r, {});
    const host = offers[i % hostCount];
    model.observe({ script: j.name, args: j.args, gpus: j.gpus, estimateSec: j.runtimeSec, host: host.name, declaredSpeed: host.speed, runSec: (j.runtimeSec * (0.5 + r())) / host.speed, censored: r() < 0.1, atMs: NOW - (2000 - i) * 60_000 });
  }
  const jobs: Job[] = [];
  // The cluster half full: every other host runs a job on half its GPUs.
  for (let h = 0; h < hostCount; h += 2) {
    jobs.push(job(jobs.length, r, { state: 'running', gpus: 4, host: offers[h].name, gpuIndices: [0, 1, 2, 3], startedAt: NOW - Math.round(r() * 7_200_000) }));
  }
  for (let i = 0; i < queued; i++) {
    jobs.push(job(jobs.length, r, {}));
  }
  return { jobs, offers, model };
}

const rows: string[][] = [['queued', 'hosts', 'median ms', 'max ms', 'planned', 'no ETA']];
for (const [queued, hosts] of [
  [50, 4],
  [200, 10],
  [500, 20],
  [1000, 20],
] as const) {
  const { jobs, offers, model } = scenario(queued, hosts);
  const times: number[] = [];
  let plan = planEtas({ jobs, offers, nowMs: NOW, agingMs: 3_600_000 }, model);
  for (let rep = 0; rep < 30; rep++) {
    const t0 = performance.now();
    plan = planEtas({ jobs, offers, nowMs: NOW, agingMs: 3_600_000 }, model);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  rows.push([String(queued), String(hosts), times[15].toFixed(2), times[times.length - 1].toFixed(2), String(plan.queued.size), String(plan.unplanned)]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const row of rows) {
  console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
}
console.log('Budget: 500 queued on 20 hosts in ≤ 20 ms.');
