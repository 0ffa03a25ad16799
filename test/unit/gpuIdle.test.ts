// The GPU idle tracker (core/gpuIdle.ts) with a fake clock: probe results stamped with times the test
// chooses. What the Job Queue row says of an idle job (ui/jobFormat.ts) is checked at the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GpuInfo, HostStatus } from '../../src/core/host';
import type { Job } from '../../src/core/job';
import { GpuIdleTracker, gpusIdle } from '../../src/core/gpuIdle';
import { gpuIdleText, jobDescription, jobTooltipMarkdown } from '../../src/ui/jobFormat';
import { makeJob } from '../support/builders';

const MIN = 60_000;
const GAP = 60_000;
const POLL = 3_000;

/** A host whose GPUs report these utilisations (undefined: [N/A]). */
function status(name: string, at: number, utils: Array<number | undefined>, state: HostStatus['state'] = 'online'): HostStatus {
  const gpus: GpuInfo[] = utils.map((u, index) => ({ index, uuid: `GPU-${name}-${index}`, name: 'A100', ...(u !== undefined && { utilizationPct: u }) }));
  return { name, kind: 'local', state, gpus, probedAt: at };
}

const running = (over: Partial<Job> = {}): Job => makeJob({ state: 'running', host: 'local', gpuIndices: [0], startedAt: 0, ...over });

/** Feeds one probe every POLL ms from `from` up to `to` (inclusive), the GPUs as `utils(t)` says. */
function feed(tracker: GpuIdleTracker, jobs: Job[], from: number, to: number, utils: (t: number) => Array<number | undefined>, host = 'local'): void {
  for (let t = from; t <= to; t += POLL) {
    tracker.observe(jobs, [status(host, t, utils(t))]);
  }
}

test('a job whose GPU shows 0 % is idle for as long as the probes saw it, and crosses the threshold once', () => {
  const job = running();
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [job], 0, 9 * MIN, () => [0]);
  assert.equal(tracker.idleMs(job.id), 9 * MIN);
  assert.deepEqual(tracker.newlyIdle(10 * MIN), [], 'not yet');
  feed(tracker, [job], 9 * MIN + POLL, 10 * MIN + 2 * POLL, () => [0]);
  assert.ok(tracker.idleMs(job.id)! >= 10 * MIN);
  assert.deepEqual(tracker.newlyIdle(10 * MIN), [job.id]);
  feed(tracker, [job], 10 * MIN + 3 * POLL, 20 * MIN, () => [0]);
  assert.deepEqual(tracker.newlyIdle(10 * MIN), [], 'reported once per job');
});

test('any non-zero utilisation resets the streak', () => {
  const job = running();
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [job], 0, 8 * MIN, () => [0]);
  tracker.observe([job], [status('local', 8 * MIN + POLL, [1])]);
  assert.equal(tracker.idleMs(job.id), undefined);
  feed(tracker, [job], 8 * MIN + 2 * POLL, 12 * MIN, () => [0]);
  assert.ok(tracker.idleMs(job.id)! < 4 * MIN, `counted again from the busy probe: ${tracker.idleMs(job.id)}`);
  assert.deepEqual(tracker.newlyIdle(10 * MIN), []);
});

test('unknown utilisation ([N/A], a GPU the probe did not list) is never idle', () => {
  const na = running();
  const missing = running({ gpuIndices: [5] });
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [na, missing], 0, 30 * MIN, () => [undefined]);
  assert.equal(tracker.idleMs(na.id), undefined);
  assert.equal(tracker.idleMs(missing.id), undefined);
  assert.deepEqual(tracker.newlyIdle(MIN), []);
  // [N/A] in the middle of a streak ends it too.
  const job = running();
  const t2 = new GpuIdleTracker(GAP);
  feed(t2, [job], 0, 9 * MIN, (t) => (t === 5 * MIN ? [undefined] : [0]));
  assert.ok(t2.idleMs(job.id)! <= 4 * MIN);
});

test('an offline host is not idle, and its probe ends the streak', () => {
  const job = running();
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [job], 0, 9 * MIN, () => [0]);
  // An offline status can carry the GPUs of its last good probe: they are not evidence.
  tracker.observe([job], [status('local', 9 * MIN + POLL, [0], 'offline')]);
  assert.equal(tracker.idleMs(job.id), undefined);
  assert.equal(gpusIdle(status('local', 0, [0], 'connecting'), [0]), false);
});

test('a gap between probes is not idle time: the streak starts again after it', () => {
  const job = running();
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [job], 0, 5 * MIN, () => [0]);
  // The window lost focus for an hour: no probes.
  feed(tracker, [job], 65 * MIN, 70 * MIN, () => [0]);
  assert.equal(tracker.idleMs(job.id), 5 * MIN, 'five observed minutes, not seventy');
  assert.deepEqual(tracker.newlyIdle(10 * MIN), []);
  // Exactly the allowed gap still counts as watched.
  const t2 = new GpuIdleTracker(GAP);
  t2.observe([job], [status('local', 0, [0])]);
  t2.observe([job], [status('local', GAP, [0])]);
  assert.equal(t2.idleMs(job.id), GAP);
});

test('a multi-GPU job is idle only when every one of its GPUs is; GPUs it does not hold do not matter', () => {
  const job = running({ gpus: 2, gpuIndices: [1, 3] });
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [job], 0, 15 * MIN, () => [97, 0, 55, 40]);
  assert.equal(tracker.idleMs(job.id), undefined, 'GPU 3 works');
  feed(tracker, [job], 15 * MIN + POLL, 30 * MIN, () => [97, 0, 55, 0]);
  assert.ok(tracker.idleMs(job.id)! >= 14 * MIN, 'both of its GPUs idle; GPU 0 busy with someone else');
  assert.deepEqual(tracker.newlyIdle(10 * MIN), [job.id]);
});

test('CPU jobs, other hosts, probes older than the start and repeated probes change nothing; ended jobs are forgotten', () => {
  const cpu = running({ gpus: 0, gpuIndices: [] });
  const remote = running({ host: 'gpu-box' });
  const late = running({ startedAt: 10 * MIN });
  const tracker = new GpuIdleTracker(GAP);
  feed(tracker, [cpu, remote, late], 0, 9 * MIN, () => [0]);
  assert.equal(tracker.idleMs(cpu.id), undefined);
  assert.equal(tracker.idleMs(remote.id), undefined, 'no status for its host');
  assert.equal(tracker.idleMs(late.id), undefined, 'probes from before it started');
  // The same probe seen again (a host event redraws with the last statuses) adds nothing.
  const job = running();
  const t2 = new GpuIdleTracker(GAP);
  const s = status('local', 30_000, [0]);
  t2.observe([job], [status('local', 0, [0])]);
  t2.observe([job], [s]);
  t2.observe([job], [s]);
  t2.observe([job], [status('local', 20_000, [1])]);
  assert.equal(t2.idleMs(job.id), 30_000, 'an older (busy) probe arriving late is ignored');
  job.state = 'succeeded';
  t2.observe([job], [status('local', 40_000, [0])]);
  assert.equal(t2.idleMs(job.id), undefined, 'forgotten once it is not running');
});

test('the Job Queue row and tooltip say "GPU idle N min" for a running job past the threshold', () => {
  const job = running({ name: 'train.py', gpuIndices: [0] });
  const description = jobDescription(job, { now: 12 * MIN, gpuIdleMs: 12 * MIN + 30_000 });
  assert.match(description, /^running · local · GPU 0 · 12:00 · GPU idle 12 min$/);
  assert.match(jobTooltipMarkdown(job, { now: 12 * MIN, gpuIdleMs: 12 * MIN }), /\*\*Warning:\*\* GPU idle 12 min/);
  assert.doesNotMatch(jobDescription(job, { now: 12 * MIN }), /idle/, 'no warning without one');
  assert.doesNotMatch(jobDescription({ ...job, state: 'succeeded', endedAt: MIN }, { now: 12 * MIN, gpuIdleMs: MIN }), /idle/, 'finished jobs are not warned');
  assert.equal(gpuIdleText(75 * MIN), 'GPU idle 1h 15m');
});
