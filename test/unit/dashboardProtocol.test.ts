import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentStats } from '../../src/agent/agentStats';
import type { HostStatus } from '../../src/core/host';
import { CHART_NAMES, checkFromWebview, checkToWebview, parseToWebview } from '../../src/shared/dashboardProtocol';
import type { Charts, EvaluationView, Snapshot, ToWebview } from '../../src/shared/dashboardProtocol';
import { alignColumns, appendToWindow, lastPoints } from '../../src/shared/seriesWindow';
import { createRng } from '../../src/sim/rng';
import { RuntimeModel } from '../../src/core/runtimeModel';
import { chartsOf, headerView, hostViews, predictionsView, recentDecisions } from '../../src/ui/dashboardModel';
import { hostSpeedText, predictionRowText, predictionsSummary } from '../../src/webview/predictionText';
import { formatDateTime, formatValue } from '../../src/webview/format';
import { restoreState } from '../../src/webview/state';
import {
  chartTableText,
  decisionText,
  EVALUATION_COLUMNS,
  evaluationCaption,
  evaluationStatus,
  headerTexts,
  hostText,
  jctBars,
} from '../../src/webview/viewText';
import { makeJob } from '../support/builders';

const NOW = 1_718_000_000_000;

function baseSnapshot(): Snapshot {
  const stats = new AgentStats('wasm', { decisions: 100, points: 500 });
  for (let i = 0; i < 4; i++) {
    stats.recordDecision({
      atMs: NOW + i,
      jobId: `j${i}`,
      jobName: `train ${i}.py`,
      priority: 'High',
      priorityPath: 'gpus ≥ 4 → High',
      candidates: [{ host: 'a', q: -1 - i }, { host: undefined, q: -2 }, { host: 'b', q: 0.5 }],
      infeasible: [{ host: 'c', reason: '0 of 4 GPUs free' }],
      chosen: i === 2 ? undefined : 'a',
      explored: i % 2 === 1,
    });
    stats.recordTrainStep({ step: i + 1, loss: 0.5 / (i + 1), atMs: NOW + 1000 * i });
    stats.recordReward(NOW + 1000 * i + 500, -i, 0.1);
  }
  stats.recordOutcome('j1', { state: 'succeeded', runSec: 120, jctSec: 300 });
  stats.updateFigures({ learning: true, savedAtMs: NOW - 60_000, trainSteps: 4, epsilon: 0.1, replaySize: 4, decisions: 4 });
  const status: HostStatus = {
    name: 'box',
    kind: 'ssh',
    state: 'online',
    probedAt: 0,
    gpus: [0, 1].map((index) => ({ index, uuid: `u${index}`, name: 'A100', utilizationPct: 40 })),
  };
  const jobs = [makeJob({ state: 'succeeded', host: 'box', runtimeSec: 3600, startedAt: 0, endedAt: 1_800_000 })];
  const evaluation: EvaluationView = {
    state: 'done',
    trace: 'philly-500.csv',
    cluster: 'hetero-4',
    jobs: 500,
    lowerBoundSec: 3_000,
    rows: [
      { policy: 'dqn', avgJctSec: 9_000, p95JctSec: 40_000, avgSlowdown: 2.5, makespanSec: 400_000, gpuUtil: 0.6 },
      { policy: 'fcfs-firstfit', avgJctSec: 12_000, p95JctSec: 50_000, avgSlowdown: 3, makespanSec: 420_000, gpuUtil: 0.55 },
    ],
    finishedAtMs: NOW,
  };
  return {
    header: headerView(stats.figures, 'dqn'),
    charts: chartsOf(stats, 100),
    decisions: recentDecisions(stats),
    hosts: [...hostViews([status], new Map([['box', 1.5]]), jobs), { name: 'local', kind: 'local', state: 'online', gpusUsed: 0, gpusTotal: 0, jobsRunning: 0, speed: 1, observedJobs: 0 }],
    evaluation,
    predictions: basePredictions(),
    historyLength: 500,
  };
}

function basePredictions(): NonNullable<Snapshot['predictions']> {
  const model = new RuntimeModel();
  [900, 1_200, 1_000].forEach((runSec, i) => {
    const host = i === 1 ? 'box' : 'local';
    model.observe({ script: 'train.py', args: ['--lr', '0.1'], gpus: 1, estimateSec: 1_800, host, declaredSpeed: host === 'box' ? 1.5 : 1, runSec, censored: false, atMs: NOW + 60_000 * i });
  });
  return predictionsView(model, [
    { name: 'box', declaredSpeed: 1.5 },
    { name: 'local', declaredSpeed: 1 },
  ]);
}

function baseMessages(): ToWebview[] {
  const snapshot = baseSnapshot();
  const append = structuredClone(snapshot.charts);
  return [
    { type: 'snapshot', snapshot },
    { type: 'update', header: snapshot.header, append, decisions: snapshot.decisions, hosts: snapshot.hosts, predictions: snapshot.predictions },
    { type: 'evaluation', evaluation: snapshot.evaluation },
    { type: 'evaluation', evaluation: { state: 'running', message: 'policy 3 of 7', rows: [] } },
  ];
}

/** Everything the page computes from a message, as the page does it (src/webview/dashboard.ts and its parts); returns the texts. */
function render(message: ToWebview, model: Snapshot): string[] {
  const out: string[] = [];
  const evaluationTexts = (e: EvaluationView): void => {
    out.push(evaluationStatus(e), evaluationCaption(e));
    e.rows.forEach((r) => EVALUATION_COLUMNS.forEach(([, cell]) => out.push(cell(r))));
    const bars = jctBars(e);
    out.push(bars.caption, bars.lowerBound ?? '0%', ...bars.bars.flatMap((b) => [b.width, b.value]));
  };
  const rest = (m: Pick<Snapshot, 'header' | 'decisions' | 'hosts' | 'predictions'>, charts: Charts): void => {
    // The Predictions section (predictions.ts): its summary, rows, speeds, and its chart's table view.
    out.push(predictionsSummary(m.predictions));
    m.predictions?.recent.forEach((p) => out.push(...Object.values(predictionRowText(p))));
    m.predictions?.speeds.forEach((h) => out.push(...Object.values(hostSpeedText(h))));
    if (m.predictions) {
      const table = chartTableText('error', [m.predictions.error], 200);
      out.push(table.caption, ...table.rows.flatMap((r) => [r.time, r.step, ...r.values]));
    }
    out.push(...Object.values(headerTexts(m.header, NOW)).flatMap((f) => [f.raw, f.text, f.title ?? '']));
    for (const d of m.decisions) {
      const t = decisionText(d);
      out.push(t.time, t.iso, t.fullTime, t.chosen, t.outcome?.text ?? '', ...t.candidates.flatMap((c) => [c.q, c.width]));
    }
    m.hosts.forEach((h) => out.push(...Object.values(hostText(h)).map(String)));
    // The three charts (charts.ts: loss; reward with its average; ε), on both axes, with their table views.
    for (const names of [['loss'], ['reward', 'rewardAvg'], ['epsilon']] as const) {
      const series = names.map((n) => charts[n]);
      alignColumns(series, 'time');
      alignColumns(series, 'step');
      series.forEach((s) => s.v.length > 0 && out.push(formatValue(s.v[s.v.length - 1])));
      const table = chartTableText('chart', series, 200);
      out.push(table.caption, ...table.rows.flatMap((r) => [r.time, r.step, ...r.values]));
    }
  };
  switch (message.type) {
    case 'snapshot': {
      const s = message.snapshot;
      const charts = Object.fromEntries(CHART_NAMES.map((n) => [n, lastPoints(s.charts[n], s.historyLength)])) as Charts;
      rest(s, charts);
      evaluationTexts(s.evaluation);
      break;
    }
    case 'update':
      CHART_NAMES.forEach((n) => appendToWindow(model.charts[n], message.append[n], model.historyLength));
      rest(message, model.charts);
      break;
    case 'evaluation':
      evaluationTexts(message.evaluation);
      break;
  }
  return out;
}

test('an out-of-range finishedAtMs (or any time) is refused at the boundary, naming the field', () => {
  // What the page did with it: Intl throws on a time no Date can hold.
  assert.throws(() => formatDateTime(8.64e15 + 1), RangeError);
  const evaluation = { ...baseSnapshot().evaluation, finishedAtMs: 8.64e15 + 1 };
  assert.equal(parseToWebview({ type: 'evaluation', evaluation }), undefined);
  assert.deepEqual(checkToWebview({ type: 'evaluation', evaluation }), {
    ok: false,
    error: 'message.evaluation.finishedAtMs: expected a time in ms within ±8.64e15, got 8640000000000001',
  });
  assert.ok(parseToWebview({ type: 'evaluation', evaluation: { ...evaluation, finishedAtMs: -8.64e15 } }), 'the edge itself is a Date');
  const snapshot = baseSnapshot();
  snapshot.decisions[1].atMs = 1e16;
  const checked = checkToWebview({ type: 'snapshot', snapshot });
  assert.match(checked.ok ? 'accepted' : checked.error, /^message\.snapshot\.decisions\[1\]\.atMs: expected a time in ms/);
});

test('every optional field and array element is checked: wrong types, holes, duplicate seqs', () => {
  const bad: Array<[string, (s: Snapshot) => void]> = [
    ['evaluation.trace', (s) => ((s.evaluation as { trace: unknown }).trace = 5)],
    ['evaluation.jobs', (s) => (s.evaluation.jobs = -1)],
    ['evaluation.lowerBoundSec', (s) => (s.evaluation.lowerBoundSec = NaN)],
    ['evaluation.message', (s) => ((s.evaluation as { message: unknown }).message = null)],
    ['header.savedAtMs', (s) => (s.header.savedAtMs = Infinity)],
    ['header.epsilon', (s) => (s.header.epsilon = 1.5)],
    ['hosts[0].utilizationPct', (s) => ((s.hosts[0] as { utilizationPct: unknown }).utilizationPct = '40')],
    ['decisions[…].outcome.runSec', (s) => (s.decisions.find((d) => d.outcome)!.outcome!.runSec = NaN)],
    ['charts.loss.t[0]', (s) => (s.charts.loss.t[0] = 9e15)],
    ['charts.loss.step[0]', (s) => (s.charts.loss.step[0] = 0.5)],
    // A hole: every() skipped it, and the page's spread of the candidates turned it into undefined.
    ['a hole in candidates', (s) => delete (s.decisions[0].candidates as unknown[])[1]],
    ['a hole in a chart column', (s) => delete (s.charts.reward.v as unknown[])[0]],
    ['duplicate seq', (s) => (s.decisions[1].seq = s.decisions[0].seq)],
    ['historyLength', (s) => (s.historyLength = -1)],
  ];
  for (const [what, damage] of bad) {
    const snapshot = baseSnapshot();
    damage(snapshot);
    assert.equal(parseToWebview(structuredClone({ type: 'snapshot', snapshot })), undefined, what);
  }
  // What the old check let through and the page then threw on:
  const holey = baseSnapshot().decisions[0];
  delete (holey.candidates as unknown[])[1];
  assert.throws(() => decisionText(holey), TypeError);
});

test('accepted messages come back as copies holding only the protocol\'s fields', () => {
  const message = { type: 'evaluation', evaluation: { state: 'idle', rows: [], extra: '<script>' }, more: 1 };
  assert.deepEqual(parseToWebview(message), { type: 'evaluation', evaluation: { state: 'idle', rows: [] } });
  for (const m of baseMessages()) {
    assert.deepEqual(parseToWebview(m), m);
  }
});

test('Q-values and JCTs at the edge of a double still give bars of finite width', () => {
  const d = { ...baseSnapshot().decisions[0], candidates: [{ host: 'a', q: Number.MAX_VALUE }, { host: 'b', q: -Number.MAX_VALUE }, { host: null, q: 0 }] };
  assert.deepEqual(decisionText(d).candidates.map((c) => c.width), ['100.0%', '52.0%', '4.0%']);
  const e: EvaluationView = { state: 'done', rows: [{ policy: 'x', avgJctSec: Number.MAX_VALUE, p95JctSec: 0, avgSlowdown: 0, makespanSec: 0, gpuUtil: 0 }], lowerBoundSec: Number.MAX_VALUE / 2 };
  assert.deepEqual([jctBars(e).bars[0].width, jctBars(e).lowerBound], ['100.0%', '50.0%']);
});

const NUMBERS = [NaN, Infinity, -Infinity, 8.64e15, -8.64e15, 8.64e15 + 1, -8.64e15 - 1, 1e16, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, 0, -1, 0.5, 1.5, 2 ** 53, 2 ** 53 + 2, 100, 1e-9];
const OTHERS = [undefined, null, '', 'x', '\u0000', '\ud800', '<img src=x onerror=alert(1)>', 'constructor', true, false, {}, [], [1, , 3], [NaN], { type: 'snapshot' }];

/** Every (container, key) in a message, its root included. */
function slots(value: unknown, out: Array<[Record<string | number, unknown>, string | number]> = []): typeof out {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      out.push([value as Record<string, unknown>, Array.isArray(value) ? Number(key) : key]);
      slots((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

test('predictions round-trip: the view checks, comes back equal, and reads as text', () => {
  const predictions = basePredictions();
  assert.equal(predictions.recent.length, 3);
  assert.equal(predictions.recent[2].runs, 0, 'the oldest was the first run');
  for (const message of baseMessages().slice(0, 2)) {
    const checked = checkToWebview(structuredClone(message));
    assert.ok(checked.ok, checked.ok ? '' : checked.error);
    const back = checked.value.type === 'snapshot' ? checked.value.snapshot.predictions : checked.value.type === 'update' ? checked.value.predictions : undefined;
    assert.deepEqual(back, predictions);
  }
  assert.equal(predictionRowText(predictions.recent[2]).runs, 'first run');
  assert.equal(predictionRowText({ ...predictions.recent[0], predictedSec: 1_250, actualSec: 1_000 }).error, '+25%');
  assert.equal(predictionRowText({ ...predictions.recent[0], predictedSec: 800, actualSec: 1_000 }).error, '−20%');
  assert.equal(hostSpeedText({ name: 'x', declaredSpeed: 2, learnedSpeed: 1.5, runs: 3 }).basis, '3 runs');
  assert.equal(predictionsSummary(undefined), 'No finished job yet: predictions appear after the first job ends.');
  assert.match(predictionsSummary(predictions), /^3 finished jobs predicted; median \|log\(predicted ÷ actual\)\| over the last 3: /);

  // Optional both ways: a saved page state or a sender from before predictions still checks.
  const { predictions: _, ...older } = baseSnapshot();
  assert.ok(checkToWebview({ type: 'snapshot', snapshot: older }).ok);
  // A run time the page would divide by is refused, naming the field.
  const bad = structuredClone(baseMessages()[0]) as Extract<ToWebview, { type: 'snapshot' }>;
  (bad.snapshot.predictions as NonNullable<Snapshot['predictions']>).recent[0].actualSec = 0;
  const refused = checkToWebview(bad);
  assert.ok(!refused.ok && refused.error.startsWith('message.snapshot.predictions.recent[0].actualSec: '), refused.ok ? '' : refused.error);
});

test('fuzz: a seeded PRNG damages valid messages 3,000 times; whatever is accepted renders without throwing', (t) => {
  const rng = createRng(20240612, 'dashboard-protocol').next;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)];
  let accepted = 0;
  const rounds = 3_000;
  for (let round = 0; round < rounds; round++) {
    const message = structuredClone(pick(baseMessages())) as unknown as Record<string, unknown>;
    for (let m = 1 + Math.floor(rng() * 3); m > 0; m--) {
      const all = slots(message);
      if (all.length === 0) {
        break;
      }
      const [parent, key] = pick(all);
      const current = parent[key];
      const op = rng();
      if (op < 0.15) {
        delete parent[key]; // a missing field, or a hole in an array
      } else if (op < 0.25 && Array.isArray(current)) {
        current.push(rng() < 0.5 ? structuredClone(current[0]) : pick([...NUMBERS, ...OTHERS]));
      } else if (op < 0.3 && Array.isArray(current)) {
        current.length = Math.floor(rng() * current.length);
      } else if (op < 0.35) {
        parent[`extra${round}`] = pick(OTHERS);
      } else if (typeof current === 'number' || op < 0.75) {
        parent[key] = pick(NUMBERS);
      } else {
        parent[key] = structuredClone(pick(OTHERS));
      }
    }
    // postMessage delivers a structured clone: holes, undefined, NaN and -0 survive it.
    const checked = checkToWebview(structuredClone(message));
    if (!checked.ok) {
      assert.match(checked.error, /^message[.[\w\]]*: /, `round ${round}: the error names the field`);
      continue;
    }
    accepted++;
    const texts = render(checked.value, baseSnapshot());
    for (const text of texts) {
      assert.doesNotMatch(text, /NaN|Infinity|Invalid/, `round ${round}: ${JSON.stringify(message).slice(0, 300)}`);
    }
    if (checked.value.type === 'snapshot') {
      assert.deepEqual(restoreState({ version: 1, ui: {}, snapshot: checked.value.snapshot }).snapshot, checked.value.snapshot);
    }
  }
  t.diagnostic(`accepted ${accepted} of ${rounds} damaged messages`);
  // Both sides of the boundary were exercised.
  assert.ok(accepted > rounds * 0.1 && accepted < rounds * 0.9, `accepted ${accepted} of ${rounds}`);
});

test('fuzz: messages from the page are accepted only in their exact shape', () => {
  const rng = createRng(20240612, 'dashboard-from-webview').next;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)];
  const keys = ['type', 'what', 'ms', 'points', 'extra'];
  const values = [...NUMBERS, ...OTHERS, 'ready', 'evaluate', 'cancelEvaluation', 'export', 'timing', 'snapshot', 'update'];
  let accepted = 0;
  for (let round = 0; round < 2_000; round++) {
    const message: Record<string, unknown> = { type: 'timing', what: 'update', ms: 3.5, points: 4 };
    for (let m = 1 + Math.floor(rng() * 2); m > 0; m--) {
      message[pick(keys)] = pick(values);
    }
    const checked = checkFromWebview(message);
    if (!checked.ok) {
      continue;
    }
    accepted++;
    const v = checked.value;
    if (v.type === 'timing') {
      assert.deepEqual(Object.keys(v), ['type', 'what', 'ms', 'points']);
      assert.ok(['snapshot', 'update'].includes(v.what) && Number.isFinite(v.ms) && v.ms >= 0 && Number.isSafeInteger(v.points) && v.points >= 0);
    } else {
      assert.deepEqual(Object.keys(v), ['type']);
    }
  }
  assert.ok(accepted > 100, `accepted ${accepted}`);
});
