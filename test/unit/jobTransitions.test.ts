import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  claim,
  endingOfExit,
  endingOfReattach,
  finish,
  handleText,
  markRetryOf,
  neverStarted,
  requeue,
  retriesAutomatically,
  specOf,
  started,
} from '../../src/core/jobTransitions';
import { makeJob } from '../support/builders';

test('an exit report decides the ending: the user\'s cancel first, then no code (Lost), then the code', () => {
  assert.deepEqual(endingOfExit({ jobId: 'a', exitCode: 143 }, true), { state: 'cancelled', exitCode: 143, reason: 'Cancelled by you.' });
  assert.deepEqual(endingOfExit({ jobId: 'a', exitCode: 0 }, false), { state: 'succeeded', exitCode: 0, reason: undefined });
  assert.deepEqual(endingOfExit({ jobId: 'a', exitCode: 143, reason: 'Slurm time limit' }, false), { state: 'failed', exitCode: 143, reason: 'Slurm time limit' });
  assert.deepEqual(endingOfExit({ jobId: 'a', reason: 'host gone' }, false), { state: 'lost', reason: 'host gone' });
  assert.match(endingOfExit({ jobId: 'a' }, false).reason!, /without recording an exit code/);
});

test('a reattach keeps a live job running and ends the rest', () => {
  assert.equal(endingOfReattach({ kind: 'running' }), undefined);
  assert.deepEqual(endingOfReattach({ kind: 'exited', exitCode: 0 }), { state: 'succeeded', exitCode: 0, reason: undefined });
  assert.deepEqual(endingOfReattach({ kind: 'exited', exitCode: 2, reason: 'x' }), { state: 'failed', exitCode: 2, reason: 'x' });
  assert.deepEqual(endingOfReattach({ kind: 'lost', reason: 'job folder removed' }), { state: 'lost', reason: 'job folder removed' });
});

test('finish reports the run time of a job that ran, never of a cancel or a job that never started', () => {
  const ran = makeJob({ state: 'running', startedAt: 1_000 });
  assert.deepEqual(finish(ran, { state: 'failed', exitCode: 1 }, 61_000), { ranForSec: 60 });
  assert.deepEqual([ran.state, ran.exitCode, ran.endedAt], ['failed', 1, 61_000]);
  assert.deepEqual(finish(makeJob({ state: 'running', startedAt: 1_000 }), { state: 'cancelled' }, 5_000), {});
  assert.deepEqual(finish(makeJob({ state: 'running', startedAt: 9_000 }), { state: 'lost' }, 5_000), { ranForSec: 0 }, 'a clock that went back is not a negative run');
  const never = makeJob({ state: 'running', startedAt: 1, gpuIndices: [0], host: 'local' });
  neverStarted(never, 'no interpreter', 2);
  assert.deepEqual([never.state, never.startedAt, never.gpuIndices, never.reason], ['failed', undefined, undefined, 'Could not start: no interpreter']);
});

test('claim, start and requeue: a requeued job is as if never claimed, handle included', () => {
  const job = makeJob({ reason: 'Waiting for 1 free GPU' });
  claim(job, 'gpu-a', [3], 500);
  assert.deepEqual([job.state, job.host, job.gpuIndices, job.startedAt, job.reason], ['running', 'gpu-a', [3], 500, undefined]);
  started(job, { kind: 'process', pgid: 77 });
  assert.deepEqual(job.handle, { kind: 'process', pgid: 77 });
  requeue(job, 'gpu-a: connection refused');
  assert.deepEqual([job.state, job.host, job.gpuIndices, job.startedAt, job.handle, job.reason], ['queued', undefined, undefined, undefined, undefined, 'gpu-a: connection refused']);
});

test('a retry copies the spec (not the args list itself), counts attempts and keeps a priority set by hand', () => {
  const old = makeJob({ id: 'o', args: ['--lr', '1'], expectedGain: 3, attempt: 2, priority: 'low', priorityReason: 'Set by you.', priorityOverridden: true });
  const spec = specOf(old);
  assert.deepEqual(spec, { script: old.script, args: ['--lr', '1'], cwd: old.cwd, gpus: old.gpus, importance: old.importance, expectedGain: 3, runtimeSec: old.runtimeSec });
  assert.notEqual(spec.args, old.args);
  const copy = makeJob({ priority: 'high', priorityReason: 'tree', priorityOverridden: false });
  markRetryOf(copy, old);
  assert.deepEqual([copy.retryOf, copy.attempt, copy.priority, copy.priorityOverridden], ['o', 3, 'low', true]);
  // Constraints and output globs travel with the retry (copies, not the same objects); dependencies do not: they ended.
  const constrained = makeJob({ constraints: { require: ['a100'], minGpuMemMiB: 20_480 }, outputs: ['outputs/**'], after: { mode: 'after-ok', jobs: ['d'] } });
  const again = specOf(constrained);
  assert.deepEqual([again.constraints, again.outputs, again.after], [{ require: ['a100'], minGpuMemMiB: 20_480 }, ['outputs/**'], undefined]);
  assert.notEqual(again.constraints, constrained.constraints);
  assert.notEqual(again.outputs, constrained.outputs);
  const plain = makeJob({ priority: 'high' });
  markRetryOf(plain, makeJob({ id: 'p' }));
  assert.deepEqual([plain.attempt, plain.priority], [2, 'high']);
});

test('automatic retries: failed or lost runs that started, within 1 + retries runs', () => {
  const job = (over: object) => makeJob({ startedAt: 1, ...over });
  assert.equal(retriesAutomatically(job({ state: 'failed' }), 1), true);
  assert.equal(retriesAutomatically(job({ state: 'lost', attempt: 2 }), 1), false, 'used up');
  assert.equal(retriesAutomatically(job({ state: 'lost', attempt: 2 }), 2), true);
  assert.equal(retriesAutomatically(job({ state: 'failed' }), 0), false);
  assert.equal(retriesAutomatically(job({ state: 'cancelled' }), 5), false);
  assert.equal(retriesAutomatically(job({ state: 'succeeded' }), 5), false);
  assert.equal(retriesAutomatically(makeJob({ state: 'failed' }), 5), false, 'never started');
});

test('a handle is named in log lines by its kind', () => {
  assert.equal(handleText({ kind: 'process', pgid: 4242 }), 'pgid 4242');
  assert.equal(handleText({ kind: 'slurm', jobId: '12' }), 'Slurm job 12');
});
