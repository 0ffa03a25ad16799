/** Edit (a queued job in place) and Re-run (any job, as a new one), through a real JobManager. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobFeatures, JobSpec, Priority } from '../../src/core/job';
import { EditRefusedError, editQueuedJob, editedSpec, priorityChoiceOf, rerunJob } from '../../src/core/jobEdits';
import { JobManager, type Classifier } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { emptyWorkspaceState, type PriorityExample } from '../../src/core/workspaceState';
import { FakeHost, MemoryPersistence } from '../support/builders';

class ImportanceClassifier implements Classifier {
  classify(f: JobFeatures): { priority: Priority; path: string } {
    return f.importance === 'high' ? { priority: 'high', path: 'importance high' } : { priority: 'low', path: 'default' };
  }
  retrain(_examples: readonly PriorityExample[]): void {}
}

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  script: '/ws/train.py', args: ['--lr', '3e-4'], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 600, ...over,
});

function setup(gpus = 1) {
  const host = new FakeHost('local', gpus);
  const persistence = new MemoryPersistence();
  let id = 0;
  let t = 1000;
  const manager = new JobManager({
    persistence, state: emptyWorkspaceState(), hosts: [host], placement: new MostFreeGpusPlacement(),
    classifier: new ImportanceClassifier(), logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined, now: () => (t += 1), newId: () => `j${++id}`,
  });
  manager.setWritable(true);
  return { host, persistence, manager };
}

test('Edit changes a queued job in place: same id and place, new spec, priority classified again, saved', async () => {
  const { manager, persistence } = setup(0);
  const first = await manager.queue(spec({ gpus: 1 }));
  const second = await manager.queue(spec({ gpus: 1, args: ['b'] }));
  const edited = await editQueuedJob(manager, first.id, { args: ['--lr', '1e-3'], importance: 'high', env: { A: 'x y' }, envFile: '/ws/.env', interpreter: '.venv/bin/python' });
  assert.equal(edited, first);
  assert.deepEqual(manager.jobs.map((j) => j.id), [first.id, second.id], 'keeps its place');
  assert.deepEqual(first.args, ['--lr', '1e-3']);
  assert.equal(first.priority, 'high');
  assert.deepEqual({ env: first.env, envFile: first.envFile, interpreter: first.interpreter }, { env: { A: 'x y' }, envFile: '/ws/.env', interpreter: '.venv/bin/python' });
  assert.deepEqual(persistence.last().jobs[0].args, ['--lr', '1e-3'], 'saved');
  await editQueuedJob(manager, first.id, { envFile: undefined });
  assert.equal('envFile' in first, false, 'a field given as undefined is cleared');
});

test('Edit keeps a priority the user set by hand (setPriority override)', async () => {
  const { manager } = setup(0);
  const job = await manager.queue(spec());
  await manager.setPriority(job.id, 'medium');
  await editQueuedJob(manager, job.id, { importance: 'high' });
  assert.deepEqual([job.priority, job.priorityOverridden, job.importance], ['medium', true, 'high']);
});

test('race: a job dispatched between opening the editor and saving is refused, and nothing changes', async () => {
  const { manager, persistence } = setup(1);
  await manager.setPaused(true);
  const job = await manager.queue(spec());
  const opened = structuredClone(job); // what the editor was prefilled with
  await manager.setPaused(false);
  await manager.kick();
  assert.equal(job.state, 'running');
  const before = JSON.stringify(persistence.last());
  const saves = persistence.saves;
  await assert.rejects(editQueuedJob(manager, opened.id, { args: ['changed'] }), (e: unknown) => e instanceof EditRefusedError && /running now .* nothing was changed/.test((e as Error).message));
  assert.equal(JSON.stringify(persistence.last()), before);
  assert.equal(persistence.saves, saves, 'not even saved again');
  assert.deepEqual(job.args, ['--lr', '3e-4']);
});

test('race: a job claimed by a dispatch round whose start is still in flight is refused too', async () => {
  const { manager, host } = setup(1);
  let release!: () => void;
  const launch = host.launch.bind(host);
  host.launch = async (r) => (await new Promise<void>((resolve) => (release = resolve)), launch(r));
  const job = await manager.queue(spec());
  const round = manager.kick();
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(editQueuedJob(manager, job.id, { gpus: 0 }), EditRefusedError);
  release();
  await round;
  assert.equal(job.gpus, 1);
  assert.equal(host.launches[0].job.gpus, 1);
});

test('bad edits are refused with one message and change nothing', async () => {
  const { manager } = setup(0);
  const job = await manager.queue(spec({ env: { TRAINQ_PARAM_LR: '0.1' } }));
  const before = structuredClone(job);
  const bad: Array<Parameters<typeof editQueuedJob>[2]> = [
    { gpus: -1 }, { gpus: 1.5 }, { runtimeSec: 0 }, { expectedGain: 400 }, { args: ['a\0b'] },
    { env: { CUDA_VISIBLE_DEVICES: '0' } }, { env: { TRAINQ_JOB_ID: 'x' } }, { env: { 'BAD NAME': 'x' } },
    { envFile: 'relative/.env' }, { interpreter: 'py\nthon' },
  ];
  for (const changes of bad) {
    await assert.rejects(editQueuedJob(manager, job.id, changes), Error, JSON.stringify(changes));
    assert.deepEqual(job, before, JSON.stringify(changes));
  }
  await editQueuedJob(manager, job.id, { env: { TRAINQ_PARAM_LR: '0.1', B: '2' } });
  assert.deepEqual(job.env, { TRAINQ_PARAM_LR: '0.1', B: '2' }, "a TrainQ name the job already had may stay");
  await assert.rejects(editQueuedJob(manager, 'nope', {}), /no longer in the queue/);
});

test('Re-run queues the edited spec as a new job; the old one is untouched; everything it was queued with carries over', async () => {
  const { manager } = setup(1);
  const dep = await manager.queue(spec());
  const old = await manager.queue(spec({ envFile: '/ws/.env', interpreter: 'python3.11', env: { A: '1' }, after: { mode: 'after', jobs: [dep.id] }, constraints: { gpuModel: 'A100' } }));
  const copy = await rerunJob(manager, old.id, { args: ['--lr', '1'] });
  assert.notEqual(copy.id, old.id);
  assert.equal(copy.state, 'queued');
  assert.deepEqual(copy.args, ['--lr', '1']);
  assert.deepEqual(old.args, ['--lr', '3e-4']);
  assert.deepEqual(
    { envFile: copy.envFile, interpreter: copy.interpreter, env: copy.env, after: copy.after, constraints: copy.constraints },
    { envFile: '/ws/.env', interpreter: 'python3.11', env: { A: '1' }, after: { mode: 'after', jobs: [dep.id] }, constraints: { gpuModel: 'A100' } },
  );
  copy.constraints!.gpuModel = 'H100';
  assert.equal(old.constraints!.gpuModel, 'A100', 'a deep copy');
  assert.equal(copy.retryOf, undefined, 'a re-run is not a retry');
});

test('Re-run of a sweep trial is a plain job, and a hand-set priority carries over', async () => {
  const { manager } = setup(0);
  const trial = await manager.queue(spec({ sweep: { sweepId: 's1', trial: 2, params: { lr: 0.1 } } }));
  await manager.setPriority(trial.id, 'high');
  const copy = await rerunJob(manager, trial.id, {});
  assert.equal(copy.sweep, undefined);
  assert.deepEqual([copy.priority, copy.priorityOverridden], ['high', true]);
  assert.equal(editedSpec(trial, { gpus: 0 }).gpus, 0);
});

test('an edit that would close a dependency cycle is refused and changes nothing', async () => {
  const { manager } = setup(0);
  await manager.setPaused(true);
  const a = await manager.queue(spec());
  const b = await manager.queue(spec({ after: { mode: 'after', jobs: [a.id] } }));
  await assert.rejects(editQueuedJob(manager, a.id, { after: { mode: 'after-ok', jobs: [b.id] } }), /cycle/);
  assert.equal(a.after, undefined);
  await assert.rejects(editQueuedJob(manager, a.id, { after: { mode: 'after', jobs: [a.id] } }), /cannot wait for itself/);
});

test('Edit with a new priority sets it by hand as Set Priority… does; "let the classifier decide" clears the override', async () => {
  const { manager, persistence } = setup(0);
  await manager.setPaused(true);
  const job = await manager.queue(spec());
  assert.equal(priorityChoiceOf(job), 'classifier', 'an edit of a classified job starts from the classifier');
  await editQueuedJob(manager, job.id, { args: ['--lr', '1'], priority: 'high' });
  assert.deepEqual([job.priority, job.priorityOverridden, job.priorityReason], ['high', true, 'Set by you.']);
  const setAt = job.prioritySetAt;
  assert.ok(setAt !== undefined, 'aging counts from the choice');
  assert.deepEqual(persistence.last().priorityExamples.map((e) => e.label), ['high'], 'a labelled example, as Set Priority… records');
  assert.equal(persistence.last().jobs[0].priorityOverridden, true, 'saved');

  await editQueuedJob(manager, job.id, { importance: 'low', priority: priorityChoiceOf(job) });
  assert.deepEqual([job.priority, job.priorityOverridden, job.prioritySetAt], ['high', true, setAt], 'the same hand-set level is kept as it was');
  assert.equal(persistence.last().priorityExamples.length, 1, 'and is not learned twice');

  await editQueuedJob(manager, job.id, { importance: 'high', priority: 'classifier' });
  assert.deepEqual([job.priority, job.priorityOverridden, job.priorityReason], ['high', false, 'importance high'], 'classified again');
  assert.equal(job.prioritySetAt, undefined);
  await editQueuedJob(manager, job.id, { importance: 'normal' });
  assert.equal(job.priority, 'low', 'and classified again on the next edit, as any job the user did not set');
});

test('Re-run with a new priority sets it by hand on the copy; "let the classifier decide" drops the carried-over one', async () => {
  const { manager, persistence } = setup(0);
  await manager.setPaused(true);
  const old = await manager.queue(spec({ importance: 'high' }));
  await manager.setPriority(old.id, 'medium');
  const kept = await rerunJob(manager, old.id, { priority: priorityChoiceOf(old) });
  assert.deepEqual([kept.priority, kept.priorityOverridden, kept.prioritySetAt], ['medium', true, old.prioritySetAt], 'unchanged: carried over as by Retry');
  const low = await rerunJob(manager, old.id, { priority: 'low' });
  assert.deepEqual([low.priority, low.priorityOverridden, low.priorityReason], ['low', true, 'Set by you.']);
  assert.deepEqual(persistence.last().priorityExamples.map((e) => e.label), ['medium', 'low']);
  const auto = await rerunJob(manager, old.id, { priority: 'classifier' });
  assert.deepEqual([auto.priority, auto.priorityOverridden, auto.prioritySetAt], ['high', false, undefined]);
  assert.deepEqual([old.priority, old.priorityOverridden], ['medium', true], 'the old job is untouched');
});
