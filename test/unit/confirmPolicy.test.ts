// When TrainQ asks before Cancel, Remove and Clear Finished (ui/confirmPolicy.ts): only when something is
// lost, never when the setting is off, and naming the jobs concerned and no others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINISHED_STATES, type JobState } from '../../src/core/job';
import { cancelQuestion, clearQuestion, deleteActions, jobList, removeQuestion, type ConfirmSettings } from '../../src/ui/confirmPolicy';

const ask: ConfirmSettings = { confirmCancel: true, confirmClearFinished: true };
const never: ConfirmSettings = { confirmCancel: false, confirmClearFinished: false };
const job = (name: string, state: JobState) => ({ name, state });

test('Cancel asks only about running jobs, and names only those', () => {
  assert.equal(cancelQuestion([job('q.py', 'queued')], ask), undefined, 'a queued job loses no work');
  assert.equal(cancelQuestion([], ask), undefined);
  assert.deepEqual(cancelQuestion([job('q.py', 'queued'), job('r.py', 'running')], ask), { kind: 'cancelRunning', names: ['r.py'], count: 1 });
  assert.equal(cancelQuestion([job('r.py', 'running')], { ...ask, confirmCancel: false }), undefined, 'trainq.confirm.cancel off');
  assert.deepEqual(cancelQuestion([job('r.py', 'running')], { ...ask, confirmClearFinished: false })?.kind, 'cancelRunning', 'the other setting does not matter');
});

test('Remove and Clear Finished ask about finished jobs in every finished state, unless turned off', () => {
  for (const state of FINISHED_STATES) {
    assert.deepEqual(removeQuestion([job('a', state)], ask), { kind: 'removeFinished', names: ['a'], count: 1 }, state);
    assert.deepEqual(clearQuestion([job('a', state), job('b', 'running'), job('c', 'queued')], ask), { kind: 'clearFinished', count: 1 }, state);
    assert.equal(removeQuestion([job('a', state)], never), undefined);
    assert.equal(clearQuestion([job('a', state)], never), undefined);
  }
  assert.equal(clearQuestion([job('b', 'running'), job('c', 'queued')], ask), undefined, 'nothing finished, nothing to ask');
  assert.equal(removeQuestion([job('b', 'running')], ask), undefined, 'the manager refuses it with its own message');
});

test('Delete splits the selection: unfinished jobs are cancelled, finished ones removed, none dropped', () => {
  const states: JobState[] = ['queued', 'running', ...FINISHED_STATES];
  const jobs = states.map((s, i) => ({ ...job(`j${i}`, s), id: `id${i}` }));
  const { cancel, remove } = deleteActions(jobs);
  assert.deepEqual(cancel.map((j) => j.state), ['queued', 'running']);
  assert.deepEqual(remove.map((j) => j.state), [...FINISHED_STATES]);
  assert.equal(cancel.length + remove.length, jobs.length);
  assert.deepEqual(deleteActions([]), { cancel: [], remove: [] });
});

test('a dialog names a few jobs, never a wall of them', () => {
  const more = (n: number) => `${n} more`;
  assert.equal(jobList([], more, 'and'), '');
  assert.equal(jobList(['a'], more, 'and'), 'a');
  assert.equal(jobList(['a', 'b'], more, 'and'), 'a and b');
  assert.equal(jobList(['a', 'b', 'c'], more, 'and'), 'a, b and c');
  assert.equal(jobList(['a', 'b', 'c', 'd', 'e'], more, 'and'), 'a, b, c and 2 more');
  const many = Array.from({ length: 10_000 }, (_, i) => `job${i}.py`);
  assert.ok(jobList(many, more, 'and').length < 60);
});
