import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SlurmJobRow } from '../../src/hosts/slurm/slurmCommands';
import { verdictFor, verdictWithoutSlurm } from '../../src/hosts/slurm/slurmStates';

const row = (state: string, over: Partial<SlurmJobRow> = {}): SlurmJobRow => ({ slurmId: '42', name: 'trainq-a', state, ...over });

test('pending, running, preempted and re-queued jobs stay tracked, with a note', () => {
  assert.deepEqual(verdictFor(row('PENDING', { reason: 'Resources' }), undefined), {
    kind: 'active',
    note: 'Pending in Slurm (job 42): Resources',
  });
  assert.deepEqual(verdictFor(row('PENDING'), undefined), { kind: 'active', note: 'Pending in Slurm (job 42)' });
  assert.deepEqual(verdictFor(row('RUNNING', { nodes: 'n7' }), undefined), { kind: 'active', note: 'Running in Slurm on n7 (job 42)' });
  assert.equal(verdictFor(row('PREEMPTED'), undefined).kind, 'active');
  assert.match((verdictFor(row('REQUEUED'), undefined) as { note: string }).note, /^Re-queued in Slurm \(job 42\); Slurm runs it again/);
  assert.deepEqual(
    verdictFor(row('COMPLETING', { nodes: 'n1' }), 0),
    { kind: 'active', note: 'Running in Slurm on n1 (job 42)' },
    'an exit file while completing: wait for the end',
  );
  assert.equal(verdictFor(row('SUSPENDED'), undefined).kind, 'active');
});

test("completed and failed jobs end with the recorded code first, else Slurm's", () => {
  assert.deepEqual(verdictFor(row('COMPLETED', { exitCode: 0 }), undefined), { kind: 'ended', exitCode: 0 });
  assert.deepEqual(verdictFor(row('FAILED', { exitCode: 3 }), 7), { kind: 'ended', exitCode: 7 });
  assert.deepEqual(verdictFor(row('FAILED', { exitCode: 2 }), undefined), { kind: 'ended', exitCode: 2 });
  assert.deepEqual(verdictFor(row('FAILED', { signal: 9 }), undefined), { kind: 'ended', exitCode: 137 });
});

test('TIMEOUT, OUT_OF_MEMORY and DEADLINE fail with a reason, even when the script exited 0', () => {
  assert.deepEqual(verdictFor(row('TIMEOUT', { signal: 15 }), 143), { kind: 'ended', exitCode: 143, reason: 'Slurm time limit' });
  assert.deepEqual(verdictFor(row('TIMEOUT', { signal: 15 }), undefined), { kind: 'ended', exitCode: 143, reason: 'Slurm time limit' });
  assert.deepEqual(verdictFor(row('TIMEOUT'), 0), { kind: 'ended', exitCode: 1, reason: 'Slurm time limit' });
  assert.equal((verdictFor(row('OUT_OF_MEMORY'), 137) as { reason: string }).reason, 'Slurm: out of memory');
});

test('NODE_FAIL and BOOT_FAIL end without an exit code (Lost) and say why', () => {
  assert.deepEqual(verdictFor(row('NODE_FAIL', { nodes: 'n3', reason: 'NodeDown', exitCode: 0 }), undefined), {
    kind: 'ended',
    reason: 'Slurm job 42 ended with NODE_FAIL: a node of the job failed (n3), NodeDown.',
  });
  assert.equal(verdictFor(row('BOOT_FAIL'), undefined).kind, 'ended');
  assert.equal((verdictFor(row('BOOT_FAIL'), undefined) as { exitCode?: number }).exitCode, undefined);
});

test("CANCELLED uses only the wrapper's code (Slurm says 0 for a job that never ran)", () => {
  assert.deepEqual(verdictFor(row('CANCELLED', { exitCode: 0 }), undefined), {
    kind: 'ended',
    reason: 'Slurm job 42 was cancelled in Slurm.',
  });
  assert.deepEqual(verdictFor(row('CANCELLED'), 143), { kind: 'ended', exitCode: 143, reason: 'Cancelled in Slurm' });
});

test('unknown states end instead of being followed forever', () => {
  assert.deepEqual(verdictFor(row('SOMETHING_NEW'), undefined), { kind: 'ended', reason: 'Slurm job 42 ended in state SOMETHING_NEW.' });
});

test('a job Slurm no longer lists: the exit file decides, else Lost', () => {
  assert.deepEqual(verdictWithoutSlurm('42', 0), { kind: 'ended', exitCode: 0 });
  assert.match((verdictWithoutSlurm('42', undefined) as { reason: string }).reason, /^Slurm no longer lists job 42/);
  assert.match((verdictWithoutSlurm(undefined, undefined) as { reason: string }).reason, /never submitted/);
});
