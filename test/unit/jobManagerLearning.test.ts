import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobFeatures, JobSpec, Priority } from '../../src/core/job';
import { JobManager, type Classifier } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { RuntimeModel } from '../../src/core/runtimeModel';
import { emptyWorkspaceState, type WorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, MemoryPersistence } from '../support/builders';

/** Records what it was asked, so a test sees the runtime feature the manager classified with. */
class RecordingClassifier implements Classifier {
  readonly seen: JobFeatures[] = [];
  classify(f: JobFeatures): { priority: Priority; path: string } {
    this.seen.push(f);
    return { priority: 'medium', path: 'default' };
  }
  retrain(): void {}
}

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  script: '/ws/train.py',
  args: ['--lr', '3e-4'],
  cwd: '/ws',
  gpus: 1,
  importance: 'normal',
  runtimeSec: 7200,
  ...over,
});

function setup(state: WorkspaceState = emptyWorkspaceState()) {
  const host = new FakeHost('lab-1', 1, 8, 2);
  const persistence = new MemoryPersistence();
  const clock = { t: 1_000_000 };
  let id = 0;
  const classifier = new RecordingClassifier();
  const manager = new JobManager({
    persistence,
    state,
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier,
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
    now: () => clock.t,
    newId: () => `j${++id}`,
  });
  manager.setWritable(true);
  return { host, persistence, manager, clock, classifier };
}

const settle = () => new Promise((r) => setImmediate(r));

/** Queues, starts and ends one job after `runSec` with `exitCode`. */
async function runOnce(s: ReturnType<typeof setup>, runSec: number, exitCode: number | undefined, over: Partial<JobSpec> = {}) {
  const job = await s.manager.queue(spec(over), 'train.py');
  await s.manager.kick();
  assert.equal(job.state, 'running');
  s.clock.t += runSec * 1000;
  s.host.exit(job.id, exitCode);
  await settle();
  return job;
}

test('each ended job that ran is one observation, censored unless it succeeded, saved with the store', async () => {
  const s = setup();
  await runOnce(s, 900, 0);
  await runOnce(s, 1000, 0);
  await runOnce(s, 300, 1);
  const model = s.manager.runtimeModel;
  assert.equal(model.observed, 3);
  // On lab-1 (declared speed 2) 900–1000 s is 1,800–2,000 s on a speed-1.0 host.
  const base = model.predictBase({ script: 'train.py', args: ['--lr', '3e-4'], gpus: 1, estimateSec: 7200 });
  assert.equal(base.scriptRuns, 3);
  assert.ok(base.runs <= 2, 'the failed run is censored: a lower bound, not a run');
  assert.ok(base.medianSec < 7200 && base.medianSec > 1800, `median ${base.medianSec}`);
  // Saved: a manager opened on the saved state predicts the same.
  const saved = s.persistence.last();
  assert.equal(RuntimeModel.fromState(saved.runtimeModel!).observed, 3);
  const reopened = setup(saved).manager;
  assert.deepEqual(reopened.runtimeModel.predictBase({ script: 'train.py', args: ['--lr', '3e-4'], gpus: 1 }), model.predictBase({ script: 'train.py', args: ['--lr', '3e-4'], gpus: 1 }));
});

test('a queued job cancelled before it started teaches the model nothing', async () => {
  const s = setup();
  const a = await s.manager.queue(spec(), 'train.py');
  await s.manager.kick();
  const b = await s.manager.queue(spec(), 'train.py');
  await s.manager.cancel(b.id);
  s.clock.t += 60_000;
  await s.manager.cancel(a.id);
  await settle();
  assert.equal(a.state, 'cancelled');
  assert.equal(s.manager.runtimeModel.observed, 1, 'only the one that ran (censored)');
});

test('a newly queued job is classified with the learned run time once its script has history', async () => {
  const s = setup();
  await s.manager.queue(spec(), 'train.py');
  assert.equal(s.classifier.seen.at(-1)!.runtimeSec, 7200, 'no history: the estimate');
  await s.manager.kick();
  for (let i = 0; i < 4; i++) {
    if (i > 0) {
      await s.manager.queue(spec(), 'train.py');
      await s.manager.kick();
    }
    const running = s.manager.jobs.find((j) => j.state === 'running')!;
    s.clock.t += 600_000;
    s.host.exit(running.id, 0);
    await settle();
  }
  const expected = s.manager.runtimeModel.predictBase({ script: 'train.py', args: ['--lr', '3e-4'], gpus: 1, estimateSec: 7200 }).medianSec;
  await s.manager.queue(spec(), 'train.py');
  const used = s.classifier.seen.at(-1)!.runtimeSec;
  assert.equal(used, Math.round(expected), 'the learned median');
  assert.ok(used < 0.8 * 7200, `classified with ${used} s, pulled from the 7,200 s estimate toward the 600 s runs`);
});

test('the dispatch order within a level follows the learned run time', async () => {
  const s = setup();
  // "slow.py" is estimated short but ran long; "quick.py" the other way round.
  await runOnce(s, 5000, 0, { script: '/ws/slow.py', runtimeSec: 60 });
  await runOnce(s, 5000, 0, { script: '/ws/slow.py', runtimeSec: 60 });
  await runOnce(s, 5, 0, { script: '/ws/quick.py', runtimeSec: 9000 });
  await runOnce(s, 5, 0, { script: '/ws/quick.py', runtimeSec: 9000 });
  const blocker = await s.manager.queue(spec({ script: '/ws/block.py' }), 'block.py');
  await s.manager.kick();
  assert.equal(blocker.state, 'running');
  const slow = await s.manager.queue(spec({ script: '/ws/slow.py', runtimeSec: 60 }), 'slow.py');
  const quick = await s.manager.queue(spec({ script: '/ws/quick.py', runtimeSec: 9000 }), 'quick.py');
  assert.ok(s.manager.predictedBaseSec(quick) < s.manager.predictedBaseSec(slow));
  s.host.exit(blocker.id, 0);
  await settle();
  await s.manager.kick();
  assert.equal(quick.state, 'running', 'the job that usually runs shorter goes first');
  assert.equal(slow.state, 'queued');
});

test('a script that ran in seconds can be queued again: its learned time is held to the classifier range, and a bad estimate is still refused', async () => {
  const s = setup();
  for (let i = 0; i < 3; i++) {
    await runOnce(s, 3, 0, { runtimeSec: 600 });
  }
  const again = await s.manager.queue(spec({ runtimeSec: 600 }), 'train.py');
  assert.ok(['queued', 'running'].includes(again.state), again.state);
  assert.equal(s.classifier.seen.at(-1)!.runtimeSec, 60, 'the 3-second history is classified as the shortest runtime the tree knows');
  await assert.rejects(s.manager.queue(spec({ runtimeSec: 5 }), 'train.py'), /Runtime must be between/);
});

test('a queued job\'s kept prediction is renewed once the model learns', async () => {
  const s = setup();
  await runOnce(s, 900, 0);
  const waiting = await s.manager.queue(spec(), 'train.py');
  const before = s.manager.predictedBaseSec(waiting);
  assert.equal(s.manager.predictedBaseSec(waiting), before, 'asked twice, the same answer');
  await s.manager.kick();
  s.clock.t += 900_000;
  s.host.exit(waiting.id, 0);
  await settle();
  assert.notEqual(s.manager.predictedBaseSec(waiting), before, 'a second run moved the prediction');
  assert.equal(s.manager.predictedBaseSec(waiting), s.manager.runtimeModel.predictBase({ script: 'train.py', args: ['--lr', '3e-4'], gpus: 1, estimateSec: 7200 }).medianSec);
});
