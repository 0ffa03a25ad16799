import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SweepRecord } from '../../src/core/sweep/sweepRecord';
import { checkSweepToWebview } from '../../src/shared/sweepProtocol';
import type { SweepView } from '../../src/shared/sweepProtocol';
import type { Scheduler } from '../../src/ui/dashboardModel';
import { budgetText, RefreshThrottle, ruleText, sweepCsv, sweepCsvField, sweepJson, sweepView } from '../../src/ui/sweepViewModel';
import { bestSoFar, curvesToDraw, headerButtons, nextSort, sortTrials } from '../../src/webview/sweepText';
import { bandScale, linearScale, logScale } from '../../src/webview/sweepScales';
import { sweepRecord, sweepTrial } from './sweepViewFixtures';

test('a sweep record maps into the view without loss, and the view passes the protocol unchanged', () => {
  const record = sweepRecord({ reason: 'paused by you' });
  const view = sweepView(record);
  // Every field the view mirrors from the record.
  assert.equal(view.id, record.id);
  assert.equal(view.name, record.spec.name);
  assert.equal(view.status, record.status);
  assert.equal(view.reason, 'paused by you');
  assert.equal(view.metric, 'val_acc');
  assert.equal(view.goal, 'max');
  assert.equal(view.strategy, 'adaptive');
  // Parameters: the spec's, less the argument template (how the script gets it is not the view's business).
  assert.deepEqual(
    view.params,
    record.spec.params.map(({ arg: _arg, ...rest }) => rest),
  );
  assert.equal(view.trials.length, record.trials.length);
  record.trials.forEach((t, i) => {
    const v = view.trials[i];
    assert.equal(v.trial, t.trial);
    assert.equal(v.state, t.state);
    assert.equal(v.jobId, t.jobId);
    assert.equal(v.why, t.why);
    assert.equal(v.stopWhy, t.stopWhy);
    assert.deepEqual(v.params, t.params);
    assert.deepEqual(
      v.curve.step.map((step, k) => ({ step, value: v.curve.value[k] })),
      t.curve,
    );
  });
  const checked = checkSweepToWebview({ type: 'snapshot', sweep: view });
  assert.ok(checked.ok, checked.ok ? '' : checked.error);
  assert.deepEqual(checked.value, { type: 'snapshot', sweep: view }, 'the protocol keeps every field');
});

test('best values follow the goal; the best trial is the best over all curves, stopped trials included', () => {
  const view = sweepView(sweepRecord());
  assert.deepEqual(
    view.trials.map((t) => t.best),
    [0.61, 0.4, 0.9, null],
  );
  assert.equal(view.bestTrial, 3);
  const min = sweepView(sweepRecord({ spec: { ...sweepRecord().spec, goal: 'min' } }));
  assert.deepEqual(
    min.trials.map((t) => t.best),
    [0.51, 0.4, 0.7, null],
  );
  assert.equal(min.bestTrial, 2);
  assert.equal(sweepView(sweepRecord({ trials: [sweepTrial(1, { curve: [] })] })).bestTrial, null);
});

test('header texts: progress, rule and budget', () => {
  const record = sweepRecord();
  const view = sweepView(record);
  assert.equal(view.progress, '3/40 trials · best val_acc 0.9 (trial 3)');
  assert.equal(view.rule, 'ASHA: rungs from step 1, ×3, up to step 27');
  assert.equal(view.budget, '4 of 40 trials · 3 of 12 GPU-hours');
  assert.equal(ruleText({ rule: 'off' }), 'No early stopping');
  assert.match(ruleText({ rule: 'median', graceSteps: 5, minTrials: 3 }), /from step 5, once 3 other trials/);
  assert.equal(budgetText(sweepRecord({ spec: { ...record.spec, budget: {} } })), 'No budget limit');
});

test('the view stays within the protocol: long texts clipped, non-finite points dropped', () => {
  const long = 'x'.repeat(10_000);
  const record = sweepRecord({
    trials: [sweepTrial(1, { why: long, curve: [{ step: 1, value: NaN }, { step: 2, value: 0.5 }, { step: 3, value: Infinity }] })],
  });
  const view = sweepView(record);
  assert.equal(view.trials[0].why.length, 4096);
  assert.deepEqual(view.trials[0].curve, { step: [2], value: [0.5] });
  assert.ok(checkSweepToWebview({ type: 'update', sweep: view }).ok);
});

test('CSV: one row per trial, a column per parameter, RFC 4180 quoting', () => {
  const csv = sweepCsv(sweepRecord());
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], 'trial,state,lr,batch,layers,optimizer,best_val_acc,steps,stopped_early');
  assert.equal(lines.length, 5);
  assert.equal(lines[1], '1,succeeded,0.001,64,3,adam,0.61,2,');
  assert.equal(lines[3], '3,stopped,0.003,64,5,adam,0.9,3,val_acc 0.51 at step 3 is not in the top 1/3 of 4 trials');
  assert.equal(lines[4], '4,queued,0.004,64,6,adam,,,');
  assert.ok(csv.endsWith('\r\n'));
  assert.equal(sweepCsvField('a,b'), '"a,b"');
  assert.equal(sweepCsvField('say "hi"'), '"say ""hi"""');
  assert.equal(sweepCsvField('two\nlines'), '"two\nlines"');
  assert.equal(sweepCsvField(undefined), '');
});

test('CSV: strings that a spreadsheet would run as a formula get a leading apostrophe; numbers do not', () => {
  for (const hostile of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1']) {
    const field = sweepCsvField(hostile);
    assert.ok(field.startsWith("'") || field.startsWith(`"'`), `${JSON.stringify(hostile)} → ${field}`);
  }
  assert.equal(sweepCsvField('=1,2'), `"'=1,2"`, 'guarded, then quoted');
  assert.equal(sweepCsvField(-0.5), '-0.5', 'a negative number stays a number');
  assert.equal(sweepCsvField('adam'), 'adam');
  const record = sweepRecord({
    trials: [sweepTrial(1, { params: { lr: -1, batch: 64, layers: 3, optimizer: '=cmd|/C calc' }, stopWhy: '@evil' })],
  });
  const row = sweepCsv(record).split('\r\n')[1];
  assert.equal(row, "1,succeeded,-1,64,3,'=cmd|/C calc,0.61,2,'@evil");
});

test('JSON export round-trips the record and names the best trial', () => {
  const record: SweepRecord = sweepRecord({ endedAt: 1_718_000_360_000, reason: 'budget of 40 trials used', status: 'finished' });
  const parsed = JSON.parse(sweepJson(record));
  assert.equal(parsed.format, 'trainq-sweep');
  assert.equal(parsed.version, 1);
  assert.deepEqual(parsed.best, { trial: 3, value: 0.9 });
  assert.deepEqual(parsed.sweep, record);
  assert.equal(JSON.parse(sweepJson(sweepRecord({ trials: [] }))).best, null);
});

test('the refresh throttle sends at once after a quiet period, then at most once per interval', () => {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void } | undefined> = [];
  const scheduler: Scheduler = {
    now: () => now,
    setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }) - 1,
    clearTimeout: (h) => {
      timers[h as number] = undefined;
    },
  };
  const advance = (to: number): void => {
    now = to;
    timers.forEach((t, i) => {
      if (t && t.at <= now) {
        timers[i] = undefined;
        t.fn();
      }
    });
  };
  let sent = 0;
  const throttle = new RefreshThrottle(() => sent++, 500, scheduler);
  throttle.request();
  advance(0);
  assert.equal(sent, 1, 'the first goes out at once');
  for (let t = 10; t < 500; t += 10) {
    throttle.request();
    advance(t);
  }
  assert.equal(sent, 1, 'a burst waits for the interval');
  advance(500);
  assert.equal(sent, 2, 'and then goes out as one');
  throttle.request();
  throttle.cancel();
  advance(2_000);
  assert.equal(sent, 2, 'a cancelled request is dropped');
});

test('page logic: buttons by status, sorting, best so far, curves to draw', () => {
  const view: SweepView = sweepView(sweepRecord());
  assert.deepEqual(headerButtons(view), { pause: true, resume: false, stop: true, queueBest: true, exportData: true });
  assert.deepEqual(headerButtons({ ...view, status: 'paused' }), { pause: false, resume: true, stop: true, queueBest: true, exportData: true });
  assert.deepEqual(headerButtons({ ...view, status: 'finished', bestTrial: null, trials: [] }), {
    pause: false,
    resume: false,
    stop: false,
    queueBest: false,
    exportData: false,
  });
  const byBest = nextSort({ key: 'trial', dir: 'ascending' }, 'best', 'max');
  assert.deepEqual(byBest, { key: 'best', dir: 'descending' }, 'best first for a max goal');
  assert.deepEqual(sortTrials(view.trials, byBest).map((t) => t.trial), [3, 1, 2, 4], 'no value last');
  assert.deepEqual(sortTrials(view.trials, nextSort(byBest, 'best', 'max')).map((t) => t.trial), [2, 1, 3, 4], 'no value last either way');
  assert.deepEqual(sortTrials(view.trials, { key: 'param:layers', dir: 'descending' }).map((t) => t.trial), [4, 3, 2, 1]);
  assert.deepEqual(sortTrials(view.trials, { key: 'state', dir: 'ascending' }).map((t) => t.state), ['failed', 'queued', 'stopped', 'succeeded']);
  assert.deepEqual(bestSoFar(view.trials, 'max'), { trial: [1, 2, 3], value: [0.61, 0.61, 0.9] });
  const many = sweepView(sweepRecord({ trials: Array.from({ length: 50 }, (_, i) => sweepTrial(i + 1, { state: i === 10 ? 'running' : 'succeeded' })) }));
  const drawn = curvesToDraw(many, 5).map((t) => t.trial);
  assert.equal(drawn.length, 5);
  assert.ok(drawn.includes(many.bestTrial as number) && drawn.includes(11) && drawn.includes(50), drawn.join(','));
});

test('scales: linear ticks are round, log ticks at powers of ten, choices evenly spaced', () => {
  const lin = linearScale([0, 1], [0, 100]);
  assert.deepEqual(lin.ticks.map((t) => t.at), [0, 20, 40, 60, 80, 100]);
  assert.equal(lin.map(0.5), 50);
  const log = logScale([1e-5, 0.1], [0, 400]);
  assert.equal(log.ticks.length, 5);
  assert.equal(log.map(1e-3), 200);
  const band = bandScale(['sgd', 'adam'], [0, 100]);
  assert.deepEqual([band.map(band.index('sgd')), band.map(band.index('adam'))], [25, 75]);
  assert.equal(band.index('rmsprop'), -1);
});
