// Dependencies in the Job Queue (issue 16, item 1): a drop of a queued job on another makes it wait
// (or only moves it, as the pick says), a refused drop changes nothing and says why once, and the
// tree's text for waiting and dependency-failed jobs. Through the do-nothing `vscode` stub.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { JobSpec } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { jobDescription, jobTooltipMarkdown, shortWaitingReason } from '../../src/ui/jobFormat';
import { FakeHost, MemoryPersistence, makeJob } from '../support/builders';
import { createVscodeStub, installVscodeStub, type VscodeStub } from '../support/vscodeStub';

let stub: VscodeStub;
let uninstall: () => void;
let dnd: typeof import('../../src/ui/queueDragAndDrop');
let nodes: typeof import('../../src/ui/queueNodes');

before(async () => {
  stub = createVscodeStub({ packageJsonPath: path.join(__dirname, '..', '..', 'package.json'), focused: true });
  uninstall = installVscodeStub(stub);
  dnd = await import('../../src/ui/queueDragAndDrop');
  nodes = await import('../../src/ui/queueNodes');
});
after(() => uninstall());

const spec = (name: string, over: Partial<JobSpec> = {}): JobSpec => ({
  script: `/ws/${name}`, args: [], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 3600, ...over,
});

function setup() {
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state: emptyWorkspaceState(),
    // No GPUs: every GPU job stays queued, so the drops act on queued jobs.
    hosts: [new FakeHost('local', 0)],
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  return manager;
}

type Transfer = { get(m: string): { asString(): Promise<string> } | undefined };
const transfer = () => new (stub.api as { DataTransfer: new () => Transfer }).DataTransfer();
const node = (job: import('../../src/core/job').Job, key: 'high' | 'medium' | 'low' | 'running' | 'finished' = 'medium') =>
  ({ kind: 'job', job, group: { kind: 'group', key }, ctx: { now: 0 } }) as const;

test('dropping a queued job on another makes it wait for that one, in the mode picked, adding to what it waited for', async () => {
  const manager = setup();
  const a = await manager.queue(spec('a.py'));
  const b = await manager.queue(spec('b.py'));
  const c = await manager.queue(spec('c.py'));
  const asked: string[] = [];
  const controller = new dnd.QueueDragAndDrop(manager, async (dragged, target, group) => {
    asked.push(`${dragged.map((j) => j.name).join('+')} on ${target.name} in ${group}`);
    return { kind: 'wait', mode: 'after-ok' };
  });
  let data = transfer();
  controller.handleDrag([node(c)], data as never);
  await controller.handleDrop(node(a), data as never);
  assert.deepEqual(c.after, { mode: 'after-ok', jobs: [a.id] });
  data = transfer();
  controller.handleDrag([node(c)], data as never);
  await controller.handleDrop(node(b, 'running'), data as never);
  assert.deepEqual(c.after, { mode: 'after-ok', jobs: [a.id, b.id] });
  assert.deepEqual(asked, ['c.py on a.py in medium', 'c.py on b.py in undefined']);
  assert.equal(c.priorityOverridden, false, 'a dependency drop sets no priority');
});

test('a drop that would close a cycle is refused with one message naming it, and changes nothing', async () => {
  const manager = setup();
  const a = await manager.queue(spec('a.py'));
  const b = await manager.queue(spec('b.py', { after: { mode: 'after', jobs: [a.id] } }));
  const controller = new dnd.QueueDragAndDrop(manager, async () => ({ kind: 'wait', mode: 'after' }));
  const data = transfer();
  controller.handleDrag([node(a)], data as never);
  const before = stub.messages.length;
  await controller.handleDrop(node(b), data as never);
  assert.equal(a.after, undefined);
  assert.deepEqual(stub.messages.slice(before), ['TrainQ: That would make a cycle, so none of them could ever start: a.py → b.py → a.py.']);
});

test('a drop on itself, a dismissed pick, or "only move" sets no dependency; "only move" takes the group', async () => {
  const manager = setup();
  const a = await manager.queue(spec('a.py'));
  const b = await manager.queue(spec('b.py'));
  let answer: import('../../src/ui/queueDragAndDrop').DropChoice | undefined = undefined;
  let asked = 0;
  const controller = new dnd.QueueDragAndDrop(manager, async () => (asked++, answer));
  const drop = async (target: ReturnType<typeof node>) => {
    const data = transfer();
    controller.handleDrag([node(a)], data as never);
    await controller.handleDrop(target, data as never);
  };
  await drop(node(a));
  assert.equal(asked, 0, 'a job dropped on itself asks nothing');
  await drop(node(b));
  assert.equal(a.after, undefined, 'dismissed');
  answer = { kind: 'priority' };
  await drop(node(b, 'low'));
  assert.deepEqual([a.after, a.priority, a.priorityOverridden], [undefined, 'low', true]);
});

test('tree text: a waiting job says what it waits for, a dependency-failed one says so; context values', () => {
  assert.equal(shortWaitingReason('Waits for train.py (aaaaaaaa) and prep.sh to succeed.'), 'waits for train.py (aaaaaaaa) and prep.sh');
  const waiting = makeJob({ name: 'b.py', after: { mode: 'after-ok', jobs: ['x'] } });
  const desc = jobDescription(waiting, { now: 0, waitingReason: 'Waits for a.py to succeed.' });
  assert.match(desc, /^queued · waits for a\.py · est\. 1h/);
  const tip = jobTooltipMarkdown(waiting, { now: 0, runsAfter: 'a.py (running), when it succeeds', waitingReason: 'Dispatching is paused.' });
  assert.match(tip, /\*\*Runs after:\*\* a\\\.py \(running\), when it succeeds/);
  const failed = makeJob({ name: 'c.py', state: 'cancelled', dependencyFailed: 'x', reason: 'Dependency failed: a.py ended failed.', endedAt: 5 });
  assert.equal(jobDescription(failed, { now: 10 }), 'dependency failed · a.py ended failed');
  assert.match(jobTooltipMarkdown(failed, { now: 10 }), /\*\*Reason:\*\* Dependency failed\\: a\\\.py ended failed\\\./);
  assert.match(jobTooltipMarkdown(failed, { now: 10 }), /^\*\*c\\\.py\*\* — dependency failed/);
  assert.equal(nodes.jobItem(node(waiting) as never).contextValue, 'job.queued.after');
  assert.equal(nodes.jobItem(node(makeJob()) as never).contextValue, 'job.queued');
});

test('header after=: names resolve to queued or running jobs; an unknown name asks, and dismissing queues nothing', async () => {
  const pick = await import('../../src/ui/dependencyPick');
  const { InputCancelled } = await import('../../src/ui/stepInput');
  const prep = makeJob({ id: 'p1', name: 'prep.sh', state: 'running', createdAt: 1 });
  const done = makeJob({ id: 'd1', name: 'old.py', state: 'succeeded', createdAt: 2 });
  assert.equal(await pick.headerDependency(undefined, [prep], 'train.py'), undefined);
  assert.deepEqual(await pick.headerDependency({ mode: 'after-ok', names: ['prep.sh'] }, [prep, done], 'train.py'), { mode: 'after-ok', jobs: ['p1'] });
  const before = stub.messages.length;
  // The stub's dialog is dismissed (undefined): nothing may be queued.
  await assert.rejects(pick.headerDependency({ mode: 'after', names: ['prep.sh', 'old.py'] }, [prep, done], 'train.py'), InputCancelled);
  assert.deepEqual(stub.messages.slice(before), ["train.py's header says after=prep.sh,old.py, but no queued or running job is named old.py."]);
});

test('Clear Dependencies (context menu of a waiting job) removes what the job waits for, and it can start', async () => {
  const { COMMANDS } = await import('../../src/ui/commands');
  const manager = setup();
  const a = await manager.queue(spec('a.py'));
  const b = await manager.queue(spec('b.py', { gpus: 0, after: { mode: 'after-ok', jobs: [a.id] } }));
  await manager.kick();
  assert.equal(b.state, 'queued');
  const clear = COMMANDS['trainq.job.clearDependencies']({ manager, jobIds: (args: unknown[]) => args.filter((x) => typeof x === 'string') } as never);
  await assert.rejects(async () => clear(), /Select a job in the Job Queue first/);
  await clear(b.id);
  assert.equal(b.after, undefined);
  await manager.kick();
  assert.equal(b.state, 'running', 'a CPU job on the GPU-less host starts once it waits for nothing');
});
