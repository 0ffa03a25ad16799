// The Job Queue view's own logic (grouping into tree nodes, drag and drop) through a do-nothing
// `vscode` stub; the real workbench drives it in test/e2e.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { JobSpec } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, MemoryPersistence } from '../support/builders';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

const MIME = 'application/vnd.code.tree.trainq.jobqueue';
let stub: VscodeStub;
let uninstall: () => void;
// Loaded after the stub is in place: the view module imports `vscode` at load time.
let views: typeof import('../../src/ui/queueView');
let configs: typeof import('../../src/ui/config');

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json'), focused: true });
  uninstall = installVscodeStub(stub);
  views = await import('../../src/ui/queueView');
  configs = await import('../../src/ui/config');
});
after(() => uninstall());

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  script: '/ws/train.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 3600, ...over,
});

async function setup() {
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state: emptyWorkspaceState(),
    hosts: [new FakeHost('local', 0)],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  const view = new views.JobQueueView(manager, new configs.ConfigWatcher());
  return { manager, view };
}

test('groups show their counts and queued jobs in dispatch order', async () => {
  const { manager, view } = await setup();
  await manager.queue(spec({ importance: 'high', runtimeSec: 7200, script: '/ws/long.py' }), 'long');
  await manager.queue(spec({ importance: 'high', runtimeSec: 600, script: '/ws/short.py' }), 'short');
  await manager.queue(spec({ importance: 'low', gpus: 8, runtimeSec: 86_400 * 3, script: '/ws/big.py' }), 'big');
  const groups = view.getChildren();
  const labels = groups.map((g) => {
    const item = view.getTreeItem(g);
    return `${item.label} ${item.description}`;
  });
  assert.deepEqual(labels, ['High 2', 'Medium 0', 'Low 1', 'Running 0', 'Finished 0']);
  const high = view.getChildren(groups[0]).map((n) => view.getTreeItem(n));
  assert.deepEqual(high.map((i) => i.label), ['short.py', 'long.py'], 'shortest estimate first');
  assert.match(String(high[0].description), /^queued/);
  assert.equal(high[0].contextValue, 'job.queued');
  view.dispose();
});

test('dragging a queued job onto another priority group sets its priority and teaches the classifier', async () => {
  const { manager, view } = await setup();
  const job = await manager.queue(spec({ importance: 'high', script: '/ws/a.py' }), 'a');
  const [high, , low] = view.getChildren();
  const node = view.getChildren(high)[0];
  const api = stub.api as { DataTransfer: new () => { get(m: string): { asString(): Promise<string> } | undefined } };
  const data = new api.DataTransfer();
  view.dragAndDrop.handleDrag([node], data as never);
  assert.deepEqual(JSON.parse((await data.get(MIME)!.asString()) as string), [job.id]);
  await view.dragAndDrop.handleDrop(low, data as never);
  assert.equal(job.priority, 'low');
  assert.equal(job.priorityOverridden, true);
  assert.equal(manager.jobs.length, 1);
  view.dispose();
});

test('running jobs cannot be dragged, and a drop outside the priority groups changes nothing', async () => {
  const { manager, view } = await setup();
  const job = await manager.queue(spec({ gpus: 0, importance: 'high' }), 'a');
  await manager.kick();
  assert.equal(job.state, 'running');
  const groups = view.getChildren();
  const running = view.getChildren(groups[3]);
  const api = stub.api as { DataTransfer: new () => { get(m: string): unknown } };
  const data = new api.DataTransfer();
  view.dragAndDrop.handleDrag(running, data as never);
  assert.equal(data.get(MIME), undefined);
  await view.dragAndDrop.handleDrop(groups[4], data as never);
  assert.equal(job.priority, 'high');
  view.dispose();
});

test('queued and running jobs show their ETAs from the cached plan; a job without one shows none', async () => {
  const { manager } = await setup();
  const running = await manager.queue(spec({ gpus: 0, importance: 'high', script: '/ws/r.py' }), 'r');
  await manager.kick();
  const queued = await manager.queue(spec({ importance: 'high', gpus: 4, script: '/ws/q.py' }), 'q');
  const wide = await manager.queue(spec({ importance: 'high', gpus: 64, script: '/ws/w.py' }), 'w');
  assert.equal(running.state, 'running');
  const start = new Date();
  start.setHours(14, 20, 0, 0);
  const end = new Date(start);
  end.setHours(16, 5);
  const { Emitter } = await import('../../src/core/emitter');
  const updated = new Emitter<void>();
  const etas = {
    plan: {
      nowMs: Date.now(),
      queued: new Map([[queued.id, { startMs: start.getTime(), endMs: end.getTime(), host: 'lab-2' }]]),
      running: new Map([[running.id, { endMs: end.getTime(), progress: 0.4 }]]),
      unplanned: 1,
    },
    onDidUpdate: updated.event,
  };
  const view = new views.JobQueueView(manager, new configs.ConfigWatcher(), etas);
  const groups = view.getChildren();
  const describe = (group: number) => view.getChildren(groups[group]).map((n) => [(n as { job: { id: string } }).job.id, String(view.getTreeItem(n).description)] as const);
  const high = new Map(describe(0));
  // The clock text carries a day when the test runs near midnight; the words around it do not change.
  assert.match(high.get(queued.id)!, /^queued · .* · starts ~(\w+ )?14:20 on lab-2 · ends ~(\w+ )?16:05$/);
  assert.doesNotMatch(high.get(wide.id)!, /starts/);
  assert.match(new Map(describe(3)).get(running.id)!, / · ends ~(\w+ )?16:05 · 40 %$/);
  view.dispose();
});

test('a new ETA plan redraws the queue only when a drawn job reads differently', async () => {
  const { manager } = await setup();
  const queued = await manager.queue(spec({ importance: 'high', gpus: 4, script: '/ws/q.py' }), 'q');
  const at = (h: number, m: number) => new Date(new Date().setHours(h, m, 0, 0)).getTime();
  const { Emitter } = await import('../../src/core/emitter');
  const updated = new Emitter<void>();
  const planWith = (startMs: number) => ({
    nowMs: Date.now(),
    queued: new Map([[queued.id, { startMs, endMs: startMs + 3_600_000, host: 'lab-2' }]]),
    running: new Map(),
    unplanned: 0,
  });
  const etas = { plan: planWith(at(14, 20)), onDidUpdate: updated.event };
  const view = new views.JobQueueView(manager, new configs.ConfigWatcher(), etas);
  let redraws = 0;
  view.onDidChangeTreeData(() => redraws++);
  const draw = () => view.getChildren().forEach((g) => view.getChildren(g).forEach((n) => view.getTreeItem(n)));
  const settle = () => new Promise((r) => setTimeout(r, 250));
  draw();
  // Same minute, seconds later: the line reads the same, so the tree (and any open menu on it) stays.
  etas.plan = planWith(at(14, 20) + 20_000);
  updated.fire();
  await settle();
  assert.equal(redraws, 0, 'a plan that reads the same must not redraw');
  etas.plan = planWith(at(14, 35));
  updated.fire();
  await settle();
  assert.equal(redraws, 1, 'a changed start time redraws once');
  draw();
  assert.match(String(view.getTreeItem(view.getChildren(view.getChildren()[0])[0]).description), /starts ~(\w+ )?14:35/);
  view.dispose();
});
