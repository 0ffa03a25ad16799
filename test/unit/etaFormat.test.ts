import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EtaPlan } from '../../src/core/etaPlanner';
import { RuntimeModel } from '../../src/core/runtimeModel';
import { EtaCache, type EtaTimers } from '../../src/ui/etaCache';
import { clockText, drainText, jobEtaText, speedText } from '../../src/ui/etaFormat';
import { runtimeHint } from '../../src/ui/runtimeHint';
import { makeJob } from '../support/builders';

// Local times, so the expected clock texts hold in any time zone.
const at = (day: number, h: number, m: number) => new Date(2026, 0, day, h, m).getTime();
const NOW = at(5, 12, 0); // a Monday

function plan(over: Partial<EtaPlan> = {}): EtaPlan {
  return { nowMs: NOW, queued: new Map(), running: new Map(), unplanned: 0, ...over };
}

test('clock times: today as ~14:20, later this week with the day, beyond with the date', () => {
  assert.equal(clockText(at(5, 14, 20), NOW), '~14:20');
  assert.equal(clockText(at(5, 9, 5), NOW), '~09:05');
  assert.equal(clockText(at(6, 8, 0), NOW), '~Tue 08:00');
  assert.equal(clockText(at(20, 16, 5), NOW), '~20 Jan 16:05');
});

test('a queued job reads "starts ~14:20 on lab-2 · ends ~16:05", a running one "ends ~16:05 · 40 %"', () => {
  const queued = makeJob({ id: 'q' });
  const running = makeJob({ id: 'r', state: 'running' });
  const p = plan({
    queued: new Map([['q', { startMs: at(5, 14, 20), endMs: at(5, 16, 5), host: 'lab-2' }]]),
    running: new Map([['r', { endMs: at(5, 16, 5), progress: 0.404 }]]),
  });
  assert.equal(jobEtaText(queued, p, NOW), 'starts ~14:20 on lab-2 · ends ~16:05');
  assert.equal(jobEtaText(running, p, NOW), 'ends ~16:05 · 40 %');
  assert.equal(jobEtaText(makeJob({ id: 'wide' }), p, NOW), undefined, 'a job with no ETA shows none');
  assert.equal(jobEtaText(makeJob({ id: 'q', state: 'succeeded' }), p, NOW), undefined);
  assert.equal(jobEtaText(queued, undefined, NOW), undefined, 'before the first plan');
});

test('the status bar says when the queue drains, and how many jobs fit no host', () => {
  assert.equal(drainText(plan({ drainMs: at(5, 18, 40) }), NOW), 'Queue drains ~18:40');
  assert.equal(drainText(plan({ drainMs: at(5, 18, 40), unplanned: 2 }), NOW), 'Queue drains ~18:40 (2 queued jobs fit no online host)');
  assert.equal(drainText(plan(), NOW), undefined);
});

test('the Hosts view shows the learned speed beside the declared one once a host has runs', () => {
  assert.equal(speedText(1, { speed: 1.6, runs: 12 }), 'speed 1.0 declared · 1.6 learned (12 runs)');
  assert.equal(speedText(2, { speed: 2, runs: 0 }), 'speed 2.0 declared');
  const model = new RuntimeModel();
  assert.equal(speedText(1, model.learnedSpeed({ name: 'lab-2', declaredSpeed: 1 })), 'speed 1.0 declared');
});

test('the runtime step is prefilled from history: the median on a speed-1.0 host, with where and how often it ran', () => {
  const model = new RuntimeModel();
  const hosts = [{ name: 'lab-1', declaredSpeed: 1 }, { name: 'lab-2', declaredSpeed: 2 }];
  const job = { script: '/ws/train.py', cwd: '/ws', args: ['--lr', '0.1'], gpus: 1, runtimeSec: 3600 };
  assert.equal(runtimeHint(model, job, hosts), undefined, 'no history: the user\'s estimate stays');
  for (let i = 0; i < 8; i++) {
    // 65 min on lab-2 (speed 2): 130 min on a speed-1.0 host.
    model.observe({ script: 'train.py', args: ['--lr', '0.1'], gpus: 1, estimateSec: 7800, host: 'lab-2', declaredSpeed: 2, runSec: 3900, censored: false, atMs: i });
  }
  const hint = runtimeHint(model, { ...job, runtimeSec: 7800 }, hosts)!;
  const base = model.predictBase({ script: 'train.py', args: ['--lr', '0.1'], gpus: 1, estimateSec: 7800 }).medianSec;
  assert.equal(hint.valueSec, Math.round(base / 60) * 60, 'whole minutes of the base median');
  assert.ok(Math.abs(hint.valueSec - 7800) <= 600, `${hint.valueSec} s is about the 130 min it takes at speed 1.0`);
  assert.match(hint.prompt, /^usually 1h \d+m on lab-2, 8 runs$/);
});

/** Timers a test advances by hand. */
function fakeTimers() {
  const state = { now: 0, queue: [] as Array<{ at: number; run: () => void }> };
  const timers: EtaTimers = {
    setTimeout: (run, ms) => {
      const entry = { at: state.now + ms, run };
      state.queue.push(entry);
      return entry;
    },
    clearTimeout: (h) => void state.queue.splice(state.queue.indexOf(h as never), 1),
    now: () => state.now,
  };
  const advance = (ms: number) => {
    state.now += ms;
    for (const e of state.queue.filter((x) => x.at <= state.now)) {
      state.queue.splice(state.queue.indexOf(e), 1);
      e.run();
    }
  };
  return { timers, advance };
}

test('ETAs are planned off the refresh path: a burst of changes makes one plan, and never two within a second', () => {
  const { timers, advance } = fakeTimers();
  let plans = 0;
  const cache = new EtaCache(() => (plans++, plan()), undefined, 1000, timers);
  let updates = 0;
  cache.onDidUpdate(() => updates++);
  cache.invalidate();
  cache.invalidate();
  assert.equal(cache.plan, undefined, 'nothing computed inside invalidate');
  advance(0);
  assert.equal(plans, 1);
  assert.equal(updates, 1);
  cache.invalidate();
  advance(500);
  assert.equal(plans, 1, 'the second plan waits for the second to pass');
  cache.invalidate();
  advance(500);
  assert.equal(plans, 2);
  assert.ok(cache.plan);
  cache.dispose();
});

test('a planning error keeps the last plan and is reported, not thrown', () => {
  const { timers, advance } = fakeTimers();
  const errors: unknown[] = [];
  let fail = false;
  const cache = new EtaCache(() => {
    if (fail) throw new Error('boom');
    return plan({ drainMs: 5 });
  }, (e) => errors.push(e), 1000, timers);
  cache.invalidate();
  advance(0);
  fail = true;
  cache.invalidate();
  advance(1000);
  assert.equal(cache.plan?.drainMs, 5);
  assert.equal(errors.length, 1);
});
