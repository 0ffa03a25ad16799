// The job-end notifications' UI (ui/jobNotifications.ts) through the `vscode` stub: a real JobManager on
// a fake host, the dispatcher's end event, the batch timer (shortened), the words, the severity, and the
// actions running the existing commands. The real workbench shows them in test/e2e/notifications.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { JobSpec } from '../../src/core/job';
import type { JobEndSetting } from '../../src/core/jobEndNotices';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import type { TrainQConfig } from '../../src/ui/config';
import { FakeHost, MemoryPersistence } from '../support/builders';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

let stub: VscodeStub;
let uninstall: () => void;
let notifications: typeof import('../../src/ui/jobNotifications');

interface Shown {
  severity: string;
  message: string;
  actions: string[];
}
const shown: Shown[] = [];
const executed: unknown[][] = [];
/** The action the "user" clicks on the next notice. */
let answer: string | undefined;

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json'), focused: true });
  uninstall = installVscodeStub(stub);
  const window = stub.api.window as Record<string, unknown>;
  for (const severity of ['Error', 'Warning', 'Information']) {
    window[`show${severity}Message`] = async (message: string, ...actions: string[]) => {
      shown.push({ severity: severity.toLowerCase(), message, actions });
      return answer;
    };
  }
  (stub.api.commands as Record<string, unknown>).executeCommand = async (...args: unknown[]) => void executed.push(args);
  notifications = await import('../../src/ui/jobNotifications');
});
after(() => uninstall());

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({ script: '/ws/train.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 600, ...over });
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function setup(setting: JobEndSetting, onlyWhenUnfocused = false) {
  shown.length = 0;
  executed.length = 0;
  answer = undefined;
  stub.setFocused(true);
  const host = new FakeHost('local', 4);
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  const config = { notifyJobEnd: setting, notifyOnlyWhenUnfocused: onlyWhenUnfocused } as TrainQConfig;
  const ui = new notifications.JobEndNotifications(manager, () => config, { windowMs: 30, minGapMs: 60 });
  const running = async (n: number) => {
    const jobs = [];
    for (let i = 0; i < n; i++) jobs.push(await manager.queue(spec()));
    await manager.kick();
    assert.ok(jobs.every((j) => j.state === 'running'));
    return jobs;
  };
  return { host, manager, ui, running, done: () => (ui.dispose(), manager.dispose()) };
}

test('a failed job: one error notice naming it, with Open Log and Re-run; Re-run runs the Retry command on it', async () => {
  const { host, running, done } = await setup('failures');
  const [job] = await running(1);
  answer = 'Re-run';
  host.exit(job.id, 3);
  await wait(80);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].severity, 'error');
  assert.match(shown[0].message, /^TrainQ: train\.py failed with exit code 3 on local after \d+:\d\d\.$/);
  assert.deepEqual(shown[0].actions, ['Open Log', 'Re-run']);
  assert.deepEqual(executed, [['trainq.job.retry', job.id]]);
  done();
});

test('endings at once make one notice with counts and Show Job Queue; successes are quiet by default', async () => {
  const all = await setup('all');
  const jobs = await all.running(3);
  answer = 'Show Job Queue';
  all.host.exit(jobs[0].id, 0);
  all.host.exit(jobs[1].id, 1);
  all.host.exit(jobs[2].id, 0);
  await wait(80);
  assert.deepEqual(
    shown.map((s) => [s.severity, s.message, s.actions]),
    [['error', 'TrainQ: 3 jobs ended: 1 failed, 2 succeeded.', ['Show Job Queue']]],
  );
  assert.deepEqual(executed, [['trainq.showQueue']]);
  all.done();

  const quiet = await setup('failures');
  const [ok] = await quiet.running(1);
  quiet.host.exit(ok.id, 0);
  await wait(80);
  assert.deepEqual(shown, []);
  quiet.done();
});

test('a job the user cancelled never notifies, not even under "all"', async () => {
  const { manager, running, done } = await setup('all');
  const [job] = await running(1);
  await manager.cancel(job.id);
  await wait(80);
  assert.equal(job.state, 'cancelled');
  assert.deepEqual(shown, []);
  done();
});

test('onlyWhenUnfocused: quiet while the window has focus, told when it has not', async () => {
  const { host, running, done } = await setup('failures', true);
  const [a, b] = await running(2);
  host.exit(a.id, 1);
  await wait(80);
  assert.equal(shown.length, 0, 'focused');
  stub.setFocused(false);
  host.exit(b.id, 1);
  await wait(120);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].severity, 'error');
  done();
});
