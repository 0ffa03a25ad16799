// Sweeps on the real JobManager with imaginary processes: the test writes each trial's log lines
// (the metrics protocol) into real files and ends trials through the fake host, then checks what the
// sweep queued, stopped and saved, and that a reloaded sweep goes on exactly where it was.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MetricsFollower } from '../../src/core/metricsFollower';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { SweepManager } from '../../src/core/sweep/sweepManager';
import type { SweepSpec } from '../../src/core/sweep/sweepTypes';
import { validateState } from '../../src/core/storeValidation';
import { emptyWorkspaceState, type WorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, MemoryPersistence } from '../support/builders';

class LoggingHost extends FakeHost {
  constructor(private readonly dir: string) {
    super('local', 0, 8);
  }
  override logPath(jobId: string): string {
    return path.join(this.dir, `${jobId}.log`);
  }
}

const spec = (over: Partial<SweepSpec> = {}): SweepSpec => ({
  name: 'lr sweep',
  script: '/ws/train.py',
  cwd: '/ws',
  fixedArgs: ['--data', 'digits'],
  params: [
    { kind: 'float', name: 'lr', min: 1e-4, max: 1, log: true },
    { kind: 'choice', name: 'opt', values: ['sgd', 'adam'] },
  ],
  metric: 'val_acc',
  goal: 'max',
  budget: { trials: 5 },
  parallel: 2,
  earlyStopping: { rule: 'off' },
  strategy: 'random',
  seed: 7,
  gpus: 0,
  importance: 'normal',
  runtimeSec: 600,
  ...over,
});

async function setup(state: WorkspaceState = emptyWorkspaceState(), dir?: string) {
  dir ??= await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-sweep-'));
  const host = new LoggingHost(dir);
  const persistence = new MemoryPersistence();
  let id = state.jobs.length;
  const manager = new JobManager({
    persistence,
    state,
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
    newId: () => `job-${++id}`,
  });
  manager.setWritable(true);
  const follower = new MetricsFollower({ jobs: () => manager.jobs, host: (n) => manager.host(n), save: () => manager.update(() => undefined) });
  const errors: unknown[] = [];
  const sweeps = new SweepManager({ jobs: manager, onDidReport: follower.onDidReport, newId: () => 'sweep-1', onError: (e) => errors.push(e) });
  const report = async (jobId: string, lines: string[]) => {
    await fs.appendFile(host.logPath(jobId), lines.map((l) => `${l}\n`).join(''));
    await follower.poll();
    await sweeps.step();
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await manager.kick();
      await sweeps.step();
    }
  };
  return { dir, host, manager, persistence, follower, sweeps, report, settle, errors };
}

test('trials are ordinary jobs with the sweep in their arguments and environment, kept to parallel and the trial budget', async () => {
  const t = await setup();
  const sweep = await t.sweeps.start(spec());
  await t.settle();
  assert.equal(t.host.launches.length, 2, 'two at a time');
  const first = t.host.launches[0];
  assert.equal(first.env.TRAINQ_SWEEP_ID, sweep.id);
  assert.equal(first.env.TRAINQ_TRIAL_ID, '1');
  const params = sweep.trials[0].params;
  assert.equal(first.env.TRAINQ_PARAM_LR, String(params.lr));
  assert.deepEqual(first.args.slice(0, 2), ['--data', 'digits']);
  assert.ok(first.args.includes('--lr') && first.args.includes('--opt'));
  // Trials are finished one by one; the sweep refills to two until five trials were started.
  for (let done = 0; done < 5; done++) {
    const running = t.manager.jobs.filter((j) => j.state === 'running');
    assert.ok(running.length <= 2);
    const job = running[0];
    await t.report(job.id, [`trainq:metric val_acc=${0.5 + done / 10} step=1`]);
    t.host.exit(job.id, 0);
    await t.settle();
  }
  const record = t.sweeps.sweep(sweep.id)!;
  assert.equal(record.trials.length, 5);
  assert.equal(record.status, 'finished');
  assert.match(record.reason!, /budget of 5 trials/);
  assert.deepEqual(record.trials.map((x) => x.state), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
  assert.equal(t.errors.length, 0);
  // What was saved passes the store's own checks (a reload reads it back).
  assert.doesNotThrow(() => validateState(t.persistence.last()));
});

test("a sweep's host constraints and output files reach every trial's job as copies of their own, and are saved with the sweep", async () => {
  const t = await setup();
  const constraints = { require: ['local'], exclude: ['lab-2'] };
  const sweep = await t.sweeps.start(spec({ constraints, outputs: ['outputs/**'] }));
  await t.settle();
  const trials = t.manager.jobs.filter((j) => j.sweep?.sweepId === sweep.id);
  assert.equal(trials.length, 2);
  for (const job of trials) {
    assert.deepEqual([job.constraints, job.outputs], [constraints, ['outputs/**']]);
    assert.notEqual(job.constraints, t.sweeps.sweep(sweep.id)!.spec.constraints, 'not shared with the sweep');
  }
  assert.equal(t.host.launches.length, 2, 'the constraints allow local, so they run');
  trials[0].constraints!.exclude!.push('local');
  assert.deepEqual(trials[1].constraints!.exclude, ['lab-2'], 'nor with another trial');
  const saved = t.persistence.last();
  assert.deepEqual([saved.sweeps![0].spec.constraints, saved.sweeps![0].spec.outputs], [constraints, ['outputs/**']]);
  assert.doesNotThrow(() => validateState(saved));
  // A stored sweep whose constraints or outputs are damaged is set aside, as a damaged job is.
  saved.sweeps![0].spec.outputs = ['/etc/passwd'];
  assert.throws(() => validateState(saved), /sweeps\[0\]\.spec\.outputs\[0\].*absolute/);
  saved.sweeps![0].spec.outputs = undefined;
  (saved.sweeps![0].spec.constraints as unknown as Record<string, unknown>).require = 'local';
  assert.throws(() => validateState(saved), /sweeps\[0\]\.spec\.constraints require must be a list/);
});

test('the median rule stops a trial that is behind; it ends Cancelled, marked stopped early, and its GPUs go to the next', async () => {
  const t = await setup();
  const sweep = await t.sweeps.start(spec({ parallel: 1, budget: { trials: 6 }, earlyStopping: { rule: 'median', graceSteps: 1, minTrials: 2 } }));
  await t.settle();
  for (let i = 0; i < 3; i++) {
    const job = t.manager.jobs.find((j) => j.state === 'running')!;
    await t.report(job.id, ['trainq:metric val_acc=0.80 step=1', 'trainq:metric val_acc=0.90 step=2']);
    t.host.exit(job.id, 0);
    await t.settle();
  }
  const bad = t.manager.jobs.find((j) => j.state === 'running')!;
  await t.report(bad.id, ['trainq:metric val_acc=0.30 step=1', 'trainq:metric val_acc=0.35 step=2']);
  await t.settle();
  assert.deepEqual(t.host.cancelled, [bad.id]);
  assert.equal(bad.state, 'cancelled');
  assert.match(bad.stoppedEarly!, /median/);
  assert.match(bad.reason!, /^Stopped early: /);
  const trial = t.sweeps.sweep(sweep.id)!.trials.find((x) => x.jobId === bad.id)!;
  assert.equal(trial.state, 'stopped');
  assert.equal(t.manager.jobs.filter((j) => j.state === 'running').length, 1, 'the next trial started at once');
});

test('a reloaded sweep goes on where it was: same next proposals as a sweep that never stopped, trials still running followed', async () => {
  const finishTwo = async (t: Awaited<ReturnType<typeof setup>>) => {
    for (let i = 0; i < 2; i++) {
      const job = t.manager.jobs.find((j) => j.state === 'running')!;
      await t.report(job.id, [`trainq:metric val_acc=${0.6 + i / 10} step=1`]);
      t.host.exit(job.id, 0);
      await t.settle();
    }
  };
  const straight = await setup();
  await straight.sweeps.start(spec({ strategy: 'adaptive', budget: { trials: 8 } }));
  await straight.settle();
  await finishTwo(straight);
  await finishTwo(straight);

  const first = await setup();
  await first.sweeps.start(spec({ strategy: 'adaptive', budget: { trials: 8 } }));
  await first.settle();
  await finishTwo(first);
  // "Reload": a new manager and sweep manager from what was saved; the running trials are followed again.
  const saved = validateState(first.persistence.last());
  first.sweeps.dispose();
  const second = await setup(saved, first.dir);
  second.host.reattachResult = { kind: 'running' };
  await second.manager.reconcile();
  await second.settle();
  await finishTwo(second);
  const params = (t: Awaited<ReturnType<typeof setup>>) => t.sweeps.sweeps[0].trials.map((x) => JSON.stringify(x.params));
  assert.deepEqual(params(second), params(straight));
});

test('pause withdraws queued trials and resume refills; stop cancels every active trial; the best configuration queues as a plain job', async () => {
  const t = await setup();
  const sweep = await t.sweeps.start(spec({ budget: { trials: 10 }, parallel: 3 }));
  await t.settle();
  const running = t.manager.jobs.find((j) => j.state === 'running')!;
  await t.report(running.id, ['trainq:metric val_acc=0.97 step=3']);
  await t.sweeps.pause(sweep.id);
  assert.equal(t.sweeps.sweep(sweep.id)!.status, 'paused');
  assert.ok(t.manager.jobs.every((j) => j.state !== 'queued'));
  await t.sweeps.resume(sweep.id);
  await t.settle();
  assert.equal(t.sweeps.sweep(sweep.id)!.trials.filter((x) => x.state === 'running' || x.state === 'queued').length, 3);
  await t.sweeps.stop(sweep.id);
  await t.settle();
  const record = t.sweeps.sweep(sweep.id)!;
  assert.equal(record.status, 'stopped');
  assert.ok(record.trials.every((x) => x.state !== 'running' && x.state !== 'queued'));
  const best = record.trials.find((x) => x.jobId === running.id)!;
  const plain = t.sweeps.bestConfigurationSpec(sweep.id, best.trial);
  assert.equal(plain.sweep, undefined);
  assert.equal(plain.env, undefined);
  assert.deepEqual(plain.args, running.args);
  await assert.rejects(t.sweeps.pause(sweep.id), /already ended/);
});
