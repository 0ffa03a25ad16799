import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentStats, type SeriesPoint } from '../../src/agent/agentStats';
import { csvField, decisionsCsv, statsJson, trainingCsv } from '../../src/agent/statsExport';
import type { HostStatus } from '../../src/core/host';
import { parseFromWebview, parseToWebview, type Charts } from '../../src/shared/dashboardProtocol';
import { RuntimeModel } from '../../src/core/runtimeModel';
import {
  chartsOf,
  downsample,
  headerView,
  hostViews,
  predictionsView,
  recentDecisions,
  UpdateBatcher,
  windowedErrors,
  type Scheduler,
} from '../../src/ui/dashboardModel';
import { makeJob } from '../support/builders';

function statsWithDecisions(n: number): AgentStats {
  const stats = new AgentStats('wasm', { decisions: 100, points: 500 });
  for (let i = 0; i < n; i++) {
    stats.recordDecision({
      atMs: 1000 + i,
      jobId: `j${i}`,
      jobName: `train, "v${i}".py`,
      priority: 'high',
      priorityPath: 'gpus ≥ 4 → High',
      candidates: [{ host: 'a', q: -1 - i }, { host: undefined, q: -2 }],
      infeasible: [{ host: 'b', reason: '0 of 4 GPUs free, the job needs 2' }],
      chosen: 'a',
      explored: i % 2 === 1,
    });
  }
  return stats;
}

test('decisions go to the view newest first, with wait as null and outcomes attached when the job ends', () => {
  const stats = statsWithDecisions(60);
  stats.recordOutcome('j59', { state: 'succeeded', runSec: 120, jctSec: 300 });
  const views = recentDecisions(stats);
  assert.equal(views.length, 50, 'the last 50');
  assert.equal(views[0].jobId, 'j59');
  assert.equal(views[0].seq, 60);
  assert.deepEqual(views[0].candidates, [{ host: 'a', q: -60 }, { host: null, q: -2 }]);
  assert.deepEqual(views[0].outcome, { state: 'succeeded', runSec: 120, jctSec: 300 });
  assert.equal(views[1].outcome, undefined);
  assert.equal(views[0].infeasible[0].host, 'b');
});

test('down-sampling keeps at most the limit, in order, and never loses a spike', () => {
  const points: SeriesPoint[] = Array.from({ length: 10_000 }, (_, i) => ({ t: i, step: i, v: i === 7_777 ? 1000 : Math.sin(i / 100) }));
  const out = downsample(points, 2_000);
  assert.ok(out.length <= 2_000 && out.length > 1_000, `${out.length} points`);
  assert.ok(out.every((p, i) => i === 0 || p.t > out[i - 1].t), 'time order kept');
  assert.ok(out.some((p) => p.v === 1000), 'the spike survives');
  assert.deepEqual(downsample(points.slice(0, 10), 2_000).length, 10, 'short series pass through');
});

test('stats keep a bounded history per chart; snapshots are down-sampled', () => {
  const stats = new AgentStats('cpu', { points: 3_000 });
  for (let i = 0; i < 5_000; i++) {
    stats.recordTrainStep({ step: i, loss: 1 / (i + 1), atMs: i });
  }
  assert.equal(stats.series.loss.size, 3_000);
  const charts = chartsOf(stats, 1_000);
  assert.ok(charts.loss.v.length <= 1_000);
  assert.equal(charts.loss.t[0], 2_000, 'the oldest points were dropped');
  assert.equal(charts.reward.v.length, 0);
});

test('rewards come with their moving average and ε', () => {
  const stats = new AgentStats('cpu');
  [-1, -3].forEach((r, i) => stats.recordReward(1000 * i, r, 0.5));
  assert.deepEqual(stats.series.rewardAvg.toArray().map((p) => p.v), [-1, -2]);
  assert.deepEqual(stats.series.epsilon.toArray().map((p) => p.v), [0.5, 0.5]);
  stats.clear();
  assert.equal(stats.series.reward.size, 0);
});

test('hosts: GPUs held by jobs, other processes and ended jobs\' leftovers, utilisation, and the observed speed from finished jobs', () => {
  const status: HostStatus = {
    name: 'box',
    kind: 'ssh',
    state: 'online',
    probedAt: 0,
    gpus: [0, 1, 2, 3, 4].map((index) => ({
      index,
      uuid: `u${index}`,
      name: 'A100',
      utilizationPct: index * 10,
      foreignProcesses: index === 3 ? 1 : 0,
      ...(index === 4 ? { leftoverJobs: ['ended-job'] } : {}),
    })),
  };
  const jobs = [
    makeJob({ state: 'running', host: 'box', gpuIndices: [0, 1] }),
    makeJob({ state: 'succeeded', host: 'box', runtimeSec: 3600, startedAt: 0, endedAt: 1_800_000 }),
    makeJob({ state: 'succeeded', host: 'box', runtimeSec: 3600, startedAt: 0, endedAt: 3_600_000 }),
    makeJob({ state: 'succeeded', host: 'box', runtimeSec: 3600, startedAt: 0, endedAt: 7_200_000 }),
    makeJob({ state: 'failed', host: 'box', runtimeSec: 3600, startedAt: 0, endedAt: 10 }),
  ];
  const [view] = hostViews([status], new Map([['box', 1.5]]), jobs);
  assert.deepEqual(view, { name: 'box', kind: 'ssh', state: 'online', gpusUsed: 4, gpusTotal: 5, utilizationPct: 20, jobsRunning: 1, speed: 1.5, observedSpeed: 1, observedJobs: 3 });
});

test('the header mirrors the figures and the placement', () => {
  const stats = new AgentStats('wasm');
  stats.updateFigures({ epsilon: 0.02, trainSteps: 12, learning: true, savedAtMs: 99 });
  assert.deepEqual(headerView(stats.figures, 'dqn'), { placement: 'dqn', backend: 'wasm', learning: true, trainSteps: 12, epsilon: 0.02, replaySize: 0, decisions: 0, savedAtMs: 99 });
});

/** A clock and timer queue the test advances by hand. */
function fakeScheduler() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let ids = 0;
  const scheduler: Scheduler = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const advance = (to: number) => {
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > to) break;
      timers.shift();
      now = next.at;
      next.fn();
    }
    now = to;
  };
  return { scheduler, advance };
}

test('updates are batched: a steady stream of points becomes at most four messages a second, nothing lost', () => {
  const { scheduler, advance } = fakeScheduler();
  const flushes: Array<{ at: number; append: Charts }> = [];
  const batcher = new UpdateBatcher((append) => flushes.push({ at: scheduler.now(), append }), 250, scheduler);
  // 1,000 training steps a second for 10 s.
  for (let ms = 0; ms < 10_000; ms++) {
    advance(ms);
    batcher.addPoint('loss', { t: ms, step: ms, v: 1 });
  }
  advance(20_000);
  const total = flushes.reduce((s, f) => s + f.append.loss.v.length, 0);
  assert.equal(total, 10_000, 'every point is sent once');
  assert.ok(flushes.length <= 41, `${flushes.length} messages in 10 s`);
  assert.ok(flushes.every((f, i) => i === 0 || f.at - flushes[i - 1].at >= 250), 'never closer than the interval');
  // After a quiet spell the first change goes out at once.
  batcher.markDirty();
  advance(20_000);
  assert.equal(flushes.at(-1)!.at, 20_000);
  // Hidden: nothing is sent, and what accumulated is dropped (the next snapshot carries it).
  batcher.setPaused(true);
  batcher.addPoint('loss', { t: 0, step: 0, v: 0 });
  advance(30_000);
  assert.equal(flushes.at(-1)!.at, 20_000);
});

test('protocol: malformed messages from the page are rejected, good ones pass', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'timing', what: 'update', ms: 3.5, points: 4, extra: '<script>' }), { type: 'timing', what: 'update', ms: 3.5, points: 4 });
  for (const bad of [null, 'ready', [], { type: 'runShell' }, { type: 'timing', what: 'update', ms: -1, points: 1 }, { type: 'timing', what: 'x', ms: 1, points: 1 }, { type: 'timing', what: 'update', ms: NaN, points: 1 }]) {
    assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
  }
});

test('protocol: the model builds snapshots the page accepts; damaged ones are refused', () => {
  const stats = statsWithDecisions(3);
  stats.recordTrainStep({ step: 1, loss: 0.5, atMs: 1 });
  const snapshot = {
    header: headerView(stats.figures, 'dqn'),
    charts: chartsOf(stats, 100),
    decisions: recentDecisions(stats),
    hosts: [],
    evaluation: { state: 'idle', rows: [] },
    historyLength: 500,
  };
  assert.ok(parseToWebview({ type: 'snapshot', snapshot }));
  const roundTripped = JSON.parse(JSON.stringify({ type: 'snapshot', snapshot }));
  assert.ok(parseToWebview(roundTripped), 'survives structured cloning as JSON');
  const uneven = structuredClone(snapshot);
  uneven.charts.loss.t.push(5);
  assert.equal(parseToWebview({ type: 'snapshot', snapshot: uneven }), undefined, 'series columns of different lengths');
  const badDecision = structuredClone(snapshot);
  (badDecision.decisions[0].candidates[0] as { q: unknown }).q = 'high';
  assert.equal(parseToWebview({ type: 'snapshot', snapshot: badDecision }), undefined);
  assert.equal(parseToWebview({ type: 'evaluation', evaluation: { state: 'exploded', rows: [] } }), undefined);
});

test('export: CSV quotes job names with commas and quotes; the JSON holds decisions and series', () => {
  const stats = statsWithDecisions(2);
  stats.recordTrainStep({ step: 1, loss: 0.25, atMs: 0 });
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  const csv = decisionsCsv(stats.decisions.toArray()).split('\r\n');
  assert.match(csv[0], /^seq,time,job_id,job_name/);
  assert.match(csv[1], /^1,\d{4}-\d\d-\d\dT.*,j0,"train, ""v0"".py",high,gpus ≥ 4 → High,a,false,a=-1\.00000 wait=-2\.00000,"b: 0 of 4 GPUs free, the job needs 2",,,$/);
  assert.match(trainingCsv(stats), /^series,time,train_step,value\r\nloss,1970-01-01T00:00:00.000Z,1,0.25\r\n$/);
  const doc = JSON.parse(statsJson(stats, 0));
  assert.equal(doc.decisions.length, 2);
  assert.equal(doc.series.loss[0].value, 0.25);
  assert.equal(doc.figures.backend, 'wasm');
});

/** A model fed `n` runs of one identity on host a (speed 1), then a new script's first run on b (declared 2). */
function fedModel(n: number): RuntimeModel {
  const model = new RuntimeModel();
  for (let i = 0; i < n; i++) {
    model.observe({ script: 'train.py', args: [], gpus: 1, estimateSec: 3_600, host: 'a', declaredSpeed: 1, runSec: 1_800, censored: false, atMs: 1_000 * (i + 1) });
  }
  model.observe({ script: 'eval.py', args: [], gpus: 1, estimateSec: 600, host: 'b', declaredSpeed: 2, runSec: 600, censored: false, atMs: 1_000 * (n + 1) });
  return model;
}

test('predictions: rows newest first from what the model predicted before learning, with runs before', () => {
  const model = fedModel(3);
  const view = predictionsView(model, [
    { name: 'a', declaredSpeed: 1 },
    { name: 'b', declaredSpeed: 2 },
    { name: 'idle', declaredSpeed: 1.5 },
  ]);
  assert.equal(view.recent.length, 4);
  assert.deepEqual(
    view.recent.map((r) => [r.script, r.host, r.runs, r.actualSec, r.atMs]),
    [
      ['eval.py', 'b', 0, 600, 4_000],
      ['train.py', 'a', 2, 1_800, 3_000],
      ['train.py', 'a', 1, 1_800, 2_000],
      ['train.py', 'a', 0, 1_800, 1_000],
    ],
  );
  // The first run of an identity on a speed-1 host is predicted at the user's estimate; later runs learn.
  assert.ok(Math.abs(view.recent[3].predictedSec - 3_600) < 1, `${view.recent[3].predictedSec}`);
  assert.ok(view.recent[1].predictedSec < view.recent[2].predictedSec && view.recent[1].predictedSec > 1_800, 'the second and third runs move toward 1800 s');
  // eval.py's first run on b: its estimate ÷ the declared speed 2.
  assert.ok(Math.abs(view.recent[0].predictedSec - 300) < 1, `${view.recent[0].predictedSec}`);
  assert.deepEqual(
    view.recent.map((r) => r.predictedSec),
    [...model.recent].reverse().map((r) => r.predictedSec),
  );
});

test('predictions: the error chart is the median |log(predicted ÷ actual)| over a sliding window', () => {
  const model = fedModel(3);
  const errors = model.recent.map((p) => Math.abs(Math.log(p.predictedSec / p.actualSec)));
  const view = predictionsView(model, [], 2);
  assert.equal(view.window, 2);
  assert.deepEqual(view.error.t, [1_000, 2_000, 3_000, 4_000]);
  assert.deepEqual(view.error.step, [1, 2, 3, 4]);
  assert.ok(Math.abs(view.error.v[0] - Math.log(2)) < 1e-6, 'the first run was predicted 2× too long');
  errors.forEach((_, i) => {
    const w = errors.slice(Math.max(0, i - 1), i + 1);
    const expected = w.length === 1 ? w[0] : (w[0] + w[1]) / 2;
    assert.ok(Math.abs(view.error.v[i] - expected) < 1e-12, `point ${i}`);
  });
  // A window of 3 over errors 3, 1, 2 (log units): the median, not the mean.
  const fake = [3, 1, 2].map((e, i) => ({ atMs: i, script: 's', host: 'a', predictedSec: Math.exp(e), actualSec: 1, runs: i }));
  assert.deepEqual(windowedErrors(fake, 3).v.map((v) => Math.round(v * 1e9) / 1e9), [3, 2, 2]);
});

test('predictions: at most 20 rows, each host\'s declared and learned speed with its runs, and none before any job', () => {
  // train.py alternates between a (speed 1) and b (declared 2, but as slow as a): each host's speed is learned from the other's runs.
  const model = new RuntimeModel();
  for (let i = 0; i < 30; i++) {
    const host = i % 2 ? 'b' : 'a';
    model.observe({ script: 'train.py', args: [], gpus: 1, estimateSec: 1_800, host, declaredSpeed: host === 'b' ? 2 : 1, runSec: 1_800, censored: false, atMs: 1_000 * (i + 1) });
  }
  const hosts = [
    { name: 'a', declaredSpeed: 1 },
    { name: 'b', declaredSpeed: 2 },
    { name: 'idle', declaredSpeed: 1.5 },
  ];
  const view = predictionsView(model, hosts);
  assert.equal(view.recent.length, 20);
  assert.deepEqual(view.recent.map((r) => r.atMs), Array.from({ length: 20 }, (_, i) => 1_000 * (30 - i)), 'the newest 20, newest first');
  assert.equal(view.error.v.length, 30, 'one chart point per finished job the model kept');
  const [a, b, idle] = view.speeds;
  assert.deepEqual([a.name, a.declaredSpeed, b.name, b.declaredSpeed], ['a', 1, 'b', 2]);
  for (const [i, s] of [a, b].entries()) {
    assert.deepEqual({ speed: s.learnedSpeed, runs: s.runs }, model.learnedSpeed(hosts[i]));
  }
  assert.ok(b.runs > 0, 'b\'s speed rests on runs');
  assert.ok(b.learnedSpeed < 2, `b runs as slowly as a, so its learned speed falls below the declared 2 (${b.learnedSpeed})`);
  assert.deepEqual(idle, { name: 'idle', declaredSpeed: 1.5, learnedSpeed: 1.5, runs: 0 }, 'no runs: the declared speed');

  const empty = predictionsView(new RuntimeModel(), [{ name: 'a', declaredSpeed: 0 }]);
  assert.deepEqual(empty.recent, []);
  assert.deepEqual(empty.error, { t: [], step: [], v: [] });
  assert.deepEqual(empty.speeds, [{ name: 'a', declaredSpeed: 1, learnedSpeed: 1, runs: 0 }], 'an unset speed reads as 1');
});
