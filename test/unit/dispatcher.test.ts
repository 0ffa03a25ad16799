import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dispatcher } from '../../src/core/dispatcher';
import { FencedError } from '../../src/core/dispatchFence';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import type { Timers } from '../../src/core/pollClock';
import { FakeHost, makeJob } from '../support/builders';

/** Timers a test fires by hand: which intervals are set, and a tick of each. */
class FakeTimers implements Timers {
  readonly live = new Map<number, { run: () => void; ms: number }>();
  private next = 0;
  setInterval(run: () => void, ms: number): unknown {
    this.live.set(++this.next, { run, ms });
    return this.next;
  }
  clearInterval(handle: unknown): void {
    this.live.delete(handle as number);
  }
  get intervals(): number[] {
    return [...this.live.values()].map((t) => t.ms);
  }
  tick(): void {
    this.live.forEach((t) => t.run());
  }
}

const settle = () => new Promise((r) => setImmediate(r));

function setup(over: { fence?: () => void; confirm?: () => Promise<boolean> } = {}) {
  const host = new FakeHost('local', 2);
  const jobs: Job[] = [];
  const timers = new FakeTimers();
  let probes = 0;
  const probe = host.probe.bind(host);
  host.probe = async () => (probes++, probe());
  const dispatcher = new Dispatcher({
    jobs: () => jobs,
    paused: () => false,
    placement: new MostFreeGpusPlacement(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    commit: async () => undefined,
    queueCopy: () => assert.fail('no retries here'),
    changed: () => undefined,
    confirmDispatch: over.confirm,
    fence: over.fence ? { assertCurrent: over.fence } : undefined,
    now: () => 1000,
    timers,
  });
  dispatcher.setHosts([host]);
  dispatcher.setWritable(true);
  return { host, jobs, timers, dispatcher, probes: () => probes };
}

test('the clock probes at once when started, then on each tick, and stops for good', async () => {
  const { timers, dispatcher, probes } = setup();
  await settle();
  const before = probes();
  dispatcher.start(5000);
  await settle();
  assert.equal(probes(), before + 1, 'the first start probes at once');
  assert.deepEqual(timers.intervals, [5000]);
  timers.tick();
  await settle();
  assert.equal(probes(), before + 2);
  dispatcher.start(2000);
  assert.deepEqual(timers.intervals, [2000], 'a second start changes the interval, and keeps one timer');
  await settle();
  assert.equal(probes(), before + 2, 'without an extra probe');
  dispatcher.stop();
  assert.deepEqual(timers.intervals, []);
  dispatcher.dispose();
});

test('a slow probe makes the next ticks skip: no overlapping rounds', async () => {
  const { host, timers, dispatcher } = setup();
  await settle();
  let release!: () => void;
  let probes = 0;
  const probe = host.probe;
  host.probe = async () => {
    probes++;
    await new Promise<void>((r) => (release = r));
    return probe();
  };
  const before = 0;
  dispatcher.start(1000);
  for (let i = 0; i < 5; i++) {
    timers.tick();
    await settle();
  }
  assert.equal(probes, before + 1, 'one probe in flight, four ticks skipped');
  release();
  await settle();
  await settle();
  timers.tick();
  await settle();
  assert.equal(probes, before + 2, 'the next tick after it ends probes again');
  release();
  dispatcher.dispose();
});

test('the focus hint changes the interval: background slower (or none), back in focus at once', async () => {
  const { timers, dispatcher, probes } = setup();
  dispatcher.start(5000, 60_000);
  await settle();
  dispatcher.setFocused(false);
  assert.deepEqual(timers.intervals, [60_000]);
  const before = probes();
  dispatcher.setFocused(true);
  await settle();
  assert.deepEqual(timers.intervals, [5000]);
  assert.equal(probes(), before + 1, 'figures are stale after the background: probe now');
  dispatcher.start(5000);
  dispatcher.setFocused(false);
  assert.deepEqual(timers.intervals, [], 'without a background interval it waits for focus');
  dispatcher.dispose();
});

test('a fenced round starts nothing; so does one whose lock is no longer confirmed', async () => {
  const fenced = setup({
    fence: () => {
      throw new FencedError();
    },
  });
  fenced.jobs.push(makeJob({ gpus: 1 }));
  await fenced.dispatcher.kick();
  assert.equal(fenced.host.launches.length, 0);
  assert.equal(fenced.jobs[0].handle, undefined, 'no handle: nothing started');

  const replaced = setup({ confirm: async () => false });
  replaced.jobs.push(makeJob({ gpus: 1 }));
  await replaced.dispatcher.kick();
  assert.equal(replaced.host.launches.length, 0);
  assert.equal(replaced.jobs[0].state, 'queued', 'not even claimed');
  fenced.dispatcher.dispose();
  replaced.dispatcher.dispose();
});

test('a round claims and starts what fits, once, however often it is kicked', async () => {
  const { host, jobs, dispatcher } = setup();
  jobs.push(makeJob({ gpus: 1 }), makeJob({ gpus: 1 }), makeJob({ gpus: 1 }));
  await Promise.all([dispatcher.kick(), dispatcher.kick(), dispatcher.kick()]);
  assert.deepEqual(jobs.map((j) => j.state), ['running', 'running', 'queued']);
  assert.equal(host.launches.length, 2);
  assert.match(dispatcher.waitingReason(jobs[2].id) ?? '', /free GPU/);
  dispatcher.dispose();
});
