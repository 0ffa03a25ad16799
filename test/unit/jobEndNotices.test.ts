// The job-end notification policy (core/jobEndNotices.ts): which endings notify under which setting,
// focus, coalescing of many endings and of a sweep's trials, and the dispatcher's end event that feeds
// it, driven through a real JobManager on a fake host.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job, JobSpec } from '../../src/core/job';
import {
  endingKind,
  JobEndBatcher,
  notifies,
  planJobEndNotice,
  severityOf,
  busySweeps,
  type EndingKind,
  type JobEndSetting,
  type NoticeContext,
} from '../../src/core/jobEndNotices';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, makeJob, MemoryPersistence } from '../support/builders';

const ran = (over: Partial<Job>): Job => makeJob({ startedAt: 1_000, endedAt: 5_000, host: 'local', gpuIndices: [0], ...over });
const succeeded = (over: Partial<Job> = {}) => ran({ state: 'succeeded', exitCode: 0, ...over });
const failed = (over: Partial<Job> = {}) => ran({ state: 'failed', exitCode: 3, ...over });
const lost = (over: Partial<Job> = {}) => ran({ state: 'lost', reason: 'host gone', ...over });
const userCancelled = (over: Partial<Job> = {}) => ran({ state: 'cancelled', reason: 'Cancelled by you.', ...over });
const stoppedEarly = (over: Partial<Job> = {}) => ran({ state: 'cancelled', stoppedEarly: 'median rule', ...over });
const trial = (sweepId: string, n: number) => ({ sweep: { sweepId, trial: n, params: {} } });

const ctx = (over: Partial<NoticeContext> = {}): NoticeContext => ({
  setting: 'failures',
  onlyWhenUnfocused: false,
  focused: true,
  retried: () => false,
  ...over,
});

test('which endings notify under each setting: failures by default, every ran job under all, none when off', () => {
  const cases: Array<[Job, EndingKind | undefined]> = [
    [succeeded(), 'succeeded'],
    [failed(), 'failed'],
    [lost(), 'lost'],
    [stoppedEarly(), 'stoppedEarly'],
    [userCancelled(), undefined],
    // Could not start: the could-not-start error said so already.
    [makeJob({ state: 'failed', reason: 'Could not start: no python' }), undefined],
    // A dependent cancelled because what it waited for failed never ran either.
    [makeJob({ state: 'cancelled', dependencyFailed: 'j1' } as Partial<Job>), undefined],
    [makeJob({ state: 'queued' }), undefined],
    [ran({ state: 'running' }), undefined],
  ];
  for (const [job, kind] of cases) {
    assert.equal(endingKind(job), kind, `${job.state} ${job.stoppedEarly ?? ''} ${job.startedAt === undefined ? 'never started' : ''}`);
  }
  const table: Record<JobEndSetting, EndingKind[]> = {
    failures: ['failed', 'lost'],
    all: ['succeeded', 'failed', 'lost', 'stoppedEarly'],
    off: [],
  };
  for (const [setting, kinds] of Object.entries(table) as Array<[JobEndSetting, EndingKind[]]>) {
    for (const kind of ['succeeded', 'failed', 'lost', 'stoppedEarly'] as EndingKind[]) {
      assert.equal(notifies(kind, setting), kinds.includes(kind), `${kind} under ${setting}`);
    }
  }
});

test('one ending is told by itself; a failure is an error, a lost job a warning, a success information', () => {
  const f = failed();
  assert.deepEqual(planJobEndNotice([f], ctx()), { kind: 'one', job: f, ending: 'failed', severity: 'error' });
  assert.equal(planJobEndNotice([lost()], ctx())?.severity, 'warning');
  assert.equal(planJobEndNotice([succeeded()], ctx()), undefined, 'success is quiet by default');
  assert.equal(planJobEndNotice([succeeded()], ctx({ setting: 'all' }))?.severity, 'info');
  assert.equal(planJobEndNotice([stoppedEarly()], ctx({ setting: 'all' }))?.severity, 'info', 'stopped early is no failure');
  assert.equal(planJobEndNotice([stoppedEarly(), userCancelled()], ctx()), undefined, 'cancels never notify as failures');
  assert.equal(planJobEndNotice([userCancelled()], ctx({ setting: 'all' })), undefined, 'what the user cancelled is not news to them');
  assert.equal(planJobEndNotice([failed(), lost()], ctx({ setting: 'off' })), undefined);
  assert.equal(severityOf(['succeeded', 'lost', 'failed']), 'error');
  assert.equal(severityOf(['succeeded', 'lost']), 'warning');
  assert.equal(severityOf([]), 'info');
});

test('onlyWhenUnfocused: nothing while the window has focus, everything else as usual when it has not', () => {
  const jobs = [failed()];
  assert.equal(planJobEndNotice(jobs, ctx({ onlyWhenUnfocused: true, focused: true })), undefined);
  assert.equal(planJobEndNotice(jobs, ctx({ onlyWhenUnfocused: true, focused: false }))?.kind, 'one');
  assert.equal(planJobEndNotice(jobs, ctx({ onlyWhenUnfocused: false, focused: true }))?.kind, 'one');
  assert.equal(planJobEndNotice([succeeded()], ctx({ onlyWhenUnfocused: true, focused: false })), undefined, 'the setting still applies');
});

test('a failure that trainq.retries queued again is not told: its retry will be', () => {
  const f = failed();
  const other = failed();
  assert.equal(planJobEndNotice([f], ctx({ retried: (j) => j.id === f.id })), undefined);
  const notice = planJobEndNotice([f, other], ctx({ retried: (j) => j.id === f.id }));
  assert.equal(notice?.kind, 'one');
  assert.equal(notice?.kind === 'one' && notice.job.id, other.id);
});

test('many endings at once make one notice with counts, failures first, one job counted once', () => {
  const jobs = [succeeded(), succeeded(), failed(), succeeded(), succeeded()];
  const notice = planJobEndNotice([...jobs, jobs[2]], ctx({ setting: 'all' }));
  assert.equal(notice?.kind, 'many');
  if (notice?.kind !== 'many') return;
  assert.deepEqual(notice.counts, { succeeded: 4, failed: 1 });
  assert.equal(notice.jobs.length, 5);
  assert.equal(notice.severity, 'error');
  assert.equal(notice.sweepId, undefined);
  // Under the default only the failures are counted, and a single one is told by itself.
  assert.equal(planJobEndNotice(jobs, ctx())?.kind, 'one');
});

test("a sweep's trials are named as the sweep's when they are all it has to show", () => {
  const jobs = [failed(trial('s1', 1)), stoppedEarly(trial('s1', 2)), succeeded(trial('s1', 3))];
  const notice = planJobEndNotice(jobs, ctx({ setting: 'all' }));
  assert.equal(notice?.kind === 'many' && notice.sweepId, 's1');
  assert.deepEqual(notice?.kind === 'many' && notice.counts, { failed: 1, stoppedEarly: 1, succeeded: 1 });
  const mixed = planJobEndNotice([...jobs, succeeded()], ctx({ setting: 'all' }));
  assert.equal(mixed?.kind === 'many' && mixed.sweepId, undefined, 'a plain job among them: no sweep name');
});

test('the batcher collects a window of endings and keeps notices a minimum gap apart', () => {
  const b = new JobEndBatcher({ windowMs: 2_000, minGapMs: 15_000 });
  const free = () => false;
  assert.equal(b.dueAt(free), undefined);
  const first = failed();
  b.add(first, 10_000);
  assert.equal(b.dueAt(free), 12_000);
  assert.deepEqual(b.take(11_999, free), [], 'not before the window closes');
  // Ten more end inside the window (a host went down with its jobs): they all join the first.
  const more = Array.from({ length: 10 }, () => lost());
  more.forEach((j, i) => b.add(j, 10_100 + i * 100));
  b.add(first, 11_500);
  assert.equal(b.dueAt(free), 12_000, 'later endings do not push the window');
  assert.deepEqual(b.take(12_000, free), [first, ...more]);
  assert.equal(b.size, 0);
  b.noteShown(12_000);
  // The next one waits for the gap, not only for its window.
  const late = failed();
  b.add(late, 13_000);
  assert.equal(b.dueAt(free), 27_000);
  assert.deepEqual(b.take(20_000, free), []);
  assert.deepEqual(b.take(27_000, free), [late]);
});

test("a sweep's ended trials wait until it has nothing queued or running, then come out together", () => {
  const b = new JobEndBatcher({ windowMs: 2_000, minGapMs: 15_000 });
  const trials = [1, 2, 3].map((n) => failed(trial('s1', n)));
  const plain = failed();
  let busy = true;
  const busySweep = (id: string) => id === 's1' && busy;
  b.add(trials[0], 0);
  b.add(plain, 500);
  b.add(trials[1], 60_000);
  assert.deepEqual(b.take(3_000, busySweep), [plain], 'the plain job is not held with the trials');
  b.noteShown(3_000);
  assert.equal(b.dueAt(busySweep), undefined, 'only held trials: nothing to wake up for');
  b.add(trials[2], 600_000);
  busy = false;
  assert.equal(b.dueAt(busySweep), 18_000, 'released: due at once, after the gap');
  assert.deepEqual(b.take(700_000, busySweep), trials);
  // What a real job list says of a sweep.
  const jobs = [makeJob({ state: 'running', ...trial('s1', 4) }), failed(trial('s2', 1))];
  assert.deepEqual([...busySweeps(jobs)], ['s1'], 's2 has nothing queued or running; a sweep that is gone is not busy');
});

test('a 40-trial sweep ending over an hour under "all" makes one notice, not 40', () => {
  const b = new JobEndBatcher();
  const jobs: Job[] = [];
  let shown = 0;
  let t = 0;
  for (let n = 1; n <= 40; n++) {
    const j = (n % 7 === 0 ? failed : succeeded)(trial('s1', n));
    jobs.push(j);
    b.add(j, (t += 90_000));
    const remaining = n < 40; // the sweep queues its next trial as each ends
    const taken = b.take(t + 5_000, () => remaining);
    if (planJobEndNotice(taken, ctx({ setting: 'all' }))) {
      shown += 1;
      b.noteShown(t + 5_000);
    }
  }
  assert.equal(shown, 1);
});

// The event itself: a real JobManager's dispatcher, a fake host's exits.
const spec = (over: Partial<JobSpec> = {}): JobSpec => ({ script: '/ws/train.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 600, ...over });
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("the dispatcher's onDidEndJob fires once per started job's end, with what the policy needs to tell them apart", async () => {
  const host = new FakeHost('local', 4);
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 1 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  const ended: Array<{ id: string; kind: EndingKind | undefined }> = [];
  manager.dispatcher.onDidEndJob((job) => ended.push({ id: job.id, kind: endingKind(job) }));
  const [ok, bad, cancelled, early, queuedOnly] = [
    await manager.queue(spec()),
    await manager.queue(spec()),
    await manager.queue(spec()),
    await manager.queue(spec()),
    await manager.queue(spec({ gpus: 8 })),
  ];
  await manager.kick();
  assert.deepEqual([ok, bad, cancelled, early].map((j) => j.state), ['running', 'running', 'running', 'running']);
  host.exit(ok.id, 0);
  host.exit(bad.id, 1);
  await manager.cancel(cancelled.id);
  await manager.stopEarly(early.id, 'median rule');
  await manager.cancel(queuedOnly.id);
  await settle();
  await manager.kick();
  const byId = new Map(ended.map((e) => [e.id, e.kind]));
  assert.equal(ended.length, 4, `one event per started job: ${JSON.stringify(ended)}`);
  assert.equal(byId.get(ok.id), 'succeeded');
  assert.equal(byId.get(bad.id), 'failed');
  assert.equal(byId.get(cancelled.id), undefined, 'a user cancel is not an ending to tell');
  assert.equal(byId.get(early.id), 'stoppedEarly');
  assert.equal(byId.has(queuedOnly.id), false, 'a job cancelled while queued never started');
  // trainq.retries = 1 queued the failure again: the policy sees it as retried and stays quiet.
  const retry = manager.jobs.find((j) => j.retryOf === bad.id);
  assert.ok(retry, 'the failure was retried');
  assert.equal(planJobEndNotice([bad], ctx({ retried: (j) => manager.jobs.some((r) => r.retryOf === j.id) })), undefined);
  manager.dispose();
});
