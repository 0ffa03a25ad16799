import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobFeatures, JobSpec, Priority } from '../../src/core/job';
import { FencedError } from '../../src/core/dispatchFence';
import { JobManager, ReadOnlyError, type Classifier } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement, type Placement, type RoundView } from '../../src/core/placement';
import { emptyWorkspaceState, type PriorityExample } from '../../src/core/workspaceState';
import { HostUnreachableError } from '../../src/core/hostErrors';
import { FakeHost, MemoryPersistence } from '../support/builders';

/** High for high importance, else Medium, unless the user taught otherwise for that GPU count. */
class RuleClassifier implements Classifier {
  examples: readonly PriorityExample[] = [];
  classify(f: JobFeatures): { priority: Priority; path: string } {
    const taught = [...this.examples].reverse().find((e) => e.features.gpus === f.gpus);
    if (taught) {
      return { priority: taught.label, path: 'taught' };
    }
    return f.importance === 'high' ? { priority: 'high', path: 'importance high' } : { priority: 'medium', path: 'default' };
  }
  retrain(examples: readonly PriorityExample[]): void {
    this.examples = examples;
  }
}

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  script: '/ws/train.py',
  args: ['--lr', '3e-4'],
  cwd: '/ws',
  gpus: 1,
  importance: 'normal',
  runtimeSec: 600,
  ...over,
});

function setup(gpus = 2, retries = 0, placement: Placement = new MostFreeGpusPlacement()) {
  const host = new FakeHost('local', gpus);
  const persistence = new MemoryPersistence();
  let t = 1000;
  let id = 0;
  const manager = new JobManager({
    persistence,
    state: emptyWorkspaceState(),
    hosts: [host],
    placement,
    classifier: new RuleClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries }),
    removeJobFiles: async () => undefined,
    now: () => t++,
    newId: () => `j${++id}`,
  });
  manager.setWritable(true);
  return { host, persistence, manager };
}

test('queueing saves the job before acknowledging and dispatches it with a GPU', async () => {
  const { host, persistence, manager } = setup();
  const launch = host.launch.bind(host);
  host.launch = async (request) => (await launch(request), { kind: 'process', pgid: 4242 });
  const job = await manager.queue(spec({ importance: 'high' }), 'train.py');
  assert.equal(persistence.last().jobs[0].id, job.id, 'durable when queue() resolves');
  assert.equal(job.priority, 'high');
  await manager.kick();
  assert.equal(job.state, 'running');
  assert.deepEqual(job.gpuIndices, [0]);
  const { script, args, cwd, gpuIndices, env } = host.launches[0];
  assert.deepEqual({ script, args, cwd, gpuIndices, env }, { script: '/ws/train.py', args: ['--lr', '3e-4'], cwd: '/ws', gpuIndices: [0], env: {} });
  assert.deepEqual(job.handle, { kind: 'process', pgid: 4242 }, "the host's handle is kept with the job");
  assert.deepEqual(manager.lastInputs('train.py')?.args, ['--lr', '3e-4']);
});

test('a job is saved as running before its process starts, so a crash cannot run it twice', async () => {
  const { host, persistence, manager } = setup();
  const launchedWhileSaved: string[] = [];
  const launch = host.launch.bind(host);
  host.launch = async (request) => {
    launchedWhileSaved.push(persistence.last().jobs.find((j) => j.id === request.job.id)!.state);
    return launch(request);
  };
  await manager.queue(spec(), 'train.py');
  await manager.kick();
  assert.deepEqual(launchedWhileSaved, ['running']);
});

test('exit codes decide succeeded or failed; freed GPUs start the next job', async () => {
  const { host, manager } = setup(1);
  const a = await manager.queue(spec(), 'a');
  const b = await manager.queue(spec(), 'b');
  await manager.kick();
  assert.equal(a.state, 'running');
  assert.equal(b.state, 'queued');
  assert.match(manager.waitingReason(b.id)!, /free GPU/);
  host.exit(a.id, 0);
  await new Promise((r) => setImmediate(r));
  await manager.kick();
  assert.equal(a.state, 'succeeded');
  assert.equal(b.state, 'running');
  host.exit(b.id, 2);
  await new Promise((r) => setImmediate(r));
  assert.equal(b.state, 'failed');
  assert.equal(b.exitCode, 2);
});

test('cancel: queued jobs are cancelled at once, running ones through the host', async () => {
  const { host, manager } = setup(1);
  const running = await manager.queue(spec(), 'a');
  const queued = await manager.queue(spec(), 'b');
  await manager.kick();
  await manager.cancel(queued.id);
  assert.equal(queued.state, 'cancelled');
  await manager.cancel(running.id);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(host.cancelled, [running.id]);
  assert.equal(running.state, 'cancelled');
  await assert.rejects(manager.cancel(running.id), /already cancelled/);
});

test('a launch failure fails the job with the reason and tells the UI once', async () => {
  const { host, manager } = setup();
  host.failLaunchWith = "Interpreter 'python9' was not found on PATH";
  const failures: string[] = [];
  manager.onDidFailToStart(({ message }) => failures.push(message));
  const job = await manager.queue(spec(), 'a');
  await manager.kick();
  assert.equal(job.state, 'failed');
  assert.match(job.reason!, /python9/);
  assert.equal(job.startedAt, undefined, 'it never ran');
  assert.equal(job.gpuIndices, undefined);
  assert.deepEqual(failures, ["Interpreter 'python9' was not found on PATH"]);
});

test('paused or untrusted: nothing starts and queued jobs say why', async () => {
  const { host, manager } = setup();
  await manager.setPaused(true);
  const job = await manager.queue(spec(), 'a');
  await manager.kick();
  assert.equal(host.launches.length, 0);
  assert.equal(manager.waitingReason(job.id), 'Dispatching is paused.');
  manager.blockDispatch('This workspace is not trusted.');
  await manager.setPaused(false);
  await manager.kick();
  assert.equal(host.launches.length, 0);
  assert.equal(manager.waitingReason(job.id), 'This workspace is not trusted.');
  manager.blockDispatch(undefined);
  await manager.kick();
  assert.equal(host.launches.length, 1);
});

test('set priority records an example, retrains, and reclassifies similar queued jobs the user did not override', async () => {
  const { manager, persistence } = setup(0);
  const a = await manager.queue(spec({ gpus: 4 }), 'a');
  const b = await manager.queue(spec({ gpus: 4 }), 'b');
  const c = await manager.queue(spec({ gpus: 2 }), 'c');
  await manager.setPriority(a.id, 'low');
  assert.equal(a.priority, 'low');
  assert.equal(a.priorityOverridden, true);
  assert.equal(b.priority, 'low', 'similar job follows the lesson');
  assert.equal(c.priority, 'medium', 'different job keeps its priority');
  assert.equal(persistence.last().priorityExamples.length, 1);
  assert.equal(persistence.last().priorityExamples[0].label, 'low');
});

test('retry queues a copy that remembers the original; remove only takes finished jobs', async () => {
  const { host, manager } = setup();
  const job = await manager.queue(spec(), 'a');
  await assert.rejects(manager.remove(job.id), /cancel it before removing/);
  await manager.kick();
  host.exit(job.id, 1);
  await new Promise((r) => setImmediate(r));
  const copy = await manager.retry(job.id);
  assert.notEqual(copy.id, job.id);
  assert.equal(copy.retryOf, job.id);
  assert.deepEqual(copy.args, job.args);
  await manager.remove(job.id);
  assert.equal(manager.job(job.id), undefined);
  assert.ok(manager.job(copy.id));
});

test('removing finished jobs asks each host to forget its own, once per host; a host that cannot be reached leaves the history cleared anyway', async () => {
  const { host, manager } = setup(2);
  const forgotten: string[][] = [];
  host.forget = async (jobs) => {
    forgotten.push(jobs.map((j) => j.id));
    if (forgotten.length === 2) {
      throw new Error('ssh: connect to host gpu-1 port 22: Connection refused');
    }
    return { removed: jobs.length, kept: 0 };
  };
  const [a, b, c] = [await manager.queue(spec(), 'a'), await manager.queue(spec(), 'b'), await manager.queue(spec(), 'c')];
  await manager.kick();
  host.exit(a.id, 0);
  host.exit(b.id, 1);
  await new Promise((r) => setImmediate(r));
  await manager.remove(a.id);
  assert.deepEqual(forgotten, [[a.id]]);
  // c still runs: Clear Finished takes b only, and the failed clean-up leaves the history cleared.
  assert.equal(await manager.clearFinished(), 1);
  assert.deepEqual(forgotten, [[a.id], [b.id]]);
  assert.equal(manager.job(b.id), undefined);
  assert.equal(manager.job(c.id)?.state, 'running');
});

test('reconcile after a restart: alive stays running, recorded exits are applied, the rest is Lost; nothing reruns', async () => {
  const host = new FakeHost('local', 2);
  const state = emptyWorkspaceState();
  const base = { script: '/ws/t.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal' as const, runtimeSec: 60, priority: 'medium' as const, priorityReason: '', priorityOverridden: false, createdAt: 0, host: 'local' };
  state.jobs.push({ ...base, id: 'alive', name: 'alive', state: 'running', gpuIndices: [0] });
  state.jobs.push({ ...base, id: 'gone', name: 'gone', state: 'running', host: 'removed-host' });
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state,
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new RuleClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  await manager.reconcile();
  assert.equal(manager.job('alive')!.state, 'running');
  assert.equal(manager.job('gone')!.state, 'lost');
  assert.match(manager.job('gone')!.reason!, /no longer configured/);
  assert.equal(host.launches.length, 0);
});

test('a read-only window refuses changes with a clear message', async () => {
  const { manager } = setup();
  manager.setWritable(false);
  await assert.rejects(manager.queue(spec(), 'a'), ReadOnlyError);
  await assert.rejects(manager.setPaused(true), /read-only/);
});

test('a host unreachable at dispatch puts the job back in its queue; one that may have started keeps it running', async () => {
  const { host, manager } = setup();
  const failures: string[] = [];
  manager.onDidFailToStart(({ message }) => failures.push(message));
  host.launch = async () => {
    throw new HostUnreachableError('local', 'unreachable', 'local: connection refused');
  };
  const job = await manager.queue(spec(), 'a');
  await manager.kick();
  assert.equal(job.state, 'queued');
  assert.equal(job.host, undefined);
  assert.equal(job.gpuIndices, undefined);
  assert.match(job.reason!, /connection refused/);
  assert.deepEqual(failures, [], 'not a job failure');

  host.launch = async () => {
    throw new HostUnreachableError('local', 'timeout', 'timed out', { mayHaveStarted: true });
  };
  await manager.kick();
  assert.equal(job.state, 'running', 'never queued twice when the start may have reached the host');
  assert.match(job.reason!, /follows the job/);
  host.exit(job.id, undefined, 'local was unreachable for 600 s');
  await new Promise((r) => setImmediate(r));
  assert.equal(job.state, 'lost');
  assert.equal(job.reason, 'local was unreachable for 600 s');
});

test('a cancel the host could not deliver leaves the job running, not cancelled', async () => {
  const { host, manager } = setup();
  const job = await manager.queue(spec(), 'a');
  await manager.kick();
  host.cancel = async () => {
    throw new HostUnreachableError('local', 'unreachable', 'host down');
  };
  await assert.rejects(manager.cancel(job.id), /host down/);
  host.exit(job.id, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(job.state, 'succeeded');
});

test('trainq.retries queues failed and lost jobs again, up to the limit, but not jobs that never started', async () => {
  const { host, manager } = setup(2, 1);
  const job = await manager.queue(spec(), 'a');
  await manager.kick();
  host.exit(job.id, 1);
  await new Promise((r) => setImmediate(r));
  const second = manager.jobs.find((j) => j.retryOf === job.id)!;
  assert.equal(second.attempt, 2);
  await manager.kick();
  assert.equal(second.state, 'running', 'the copy is dispatched like any queued job');
  host.exit(second.id, undefined, 'host vanished');
  await new Promise((r) => setImmediate(r));
  assert.equal(second.state, 'lost');
  assert.equal(manager.jobs.filter((j) => j.retryOf === second.id).length, 0, 'one retry allowed, used up');

  host.failLaunchWith = 'Interpreter not found';
  const broken = await manager.queue(spec(), 'b');
  await manager.kick();
  assert.equal(broken.state, 'failed');
  assert.equal(manager.jobs.filter((j) => j.retryOf === broken.id).length, 0);
});

test('a learning placement hears of submissions, rounds, queue changes and how runs end (not cancels)', async () => {
  const calls: string[] = [];
  const rounds: RoundView[] = [];
  const base = new MostFreeGpusPlacement();
  const placement: Placement = {
    name: 'recording',
    choose: (job, feasible) => base.choose(job, feasible),
    beginRound: (view) => void rounds.push(view),
    observe: (_now, queued) => void calls.push(`observe ${queued}`),
    noteSubmitted: (job) => void calls.push(`submitted ${job.id}`),
    noteFinished: (job, runSec) => void calls.push(`finished ${job.id} ${runSec >= 0 ? 'ran' : 'negative'}`),
  };
  const { host, manager } = setup(1, 0, placement);
  const a = await manager.queue(spec(), 'a');
  const b = await manager.queue(spec(), 'b');
  await manager.kick();
  assert.deepEqual(calls.slice(0, 4), ['submitted j1', 'observe 1', 'submitted j2', 'observe 2']);
  assert.ok(rounds.length >= 1);
  assert.deepEqual(rounds.at(-1)!.queued.map((j) => j.id), ['j2'], 'the round sees the queue');
  assert.deepEqual(rounds.at(-1)!.running.map((j) => j.id), ['j1'], 'and the running jobs');
  assert.ok(calls.includes('observe 1'), 'a start changes the queue count');
  host.exit(a.id, 0);
  await new Promise((r) => setImmediate(r));
  await manager.kick();
  assert.ok(calls.includes('finished j1 ran'));
  assert.deepEqual(rounds.at(-1)!.running.map((j) => j.id), [], 'j1 had ended when the round began');
  assert.equal(b.state, 'running');
  await manager.cancel(b.id);
  host.exit(b.id, 143);
  await new Promise((r) => setImmediate(r));
  assert.equal(b.state, 'cancelled');
  assert.ok(!calls.some((c) => c.startsWith('finished j2')), 'a cancelled run is not reported');
});

test('a window whose fence is gone starts nothing: the launch is skipped and the round\'s save refused', async () => {
  const host = new FakeHost('local', 2);
  const persistence = new MemoryPersistence();
  let fenced = false;
  const warnings: string[] = [];
  const manager = new JobManager({
    persistence: {
      save: async (state) => {
        if (fenced) {
          throw new FencedError();
        }
        await persistence.save(state);
        // The window is stopped right after the round claimed the job, and another window takes over meanwhile.
        fenced = state.jobs.some((j) => j.state === 'running');
      },
    },
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: new RuleClassifier(),
    logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
    fence: {
      assertCurrent: () => {
        if (fenced) {
          throw new FencedError();
        }
      },
    },
  });
  manager.setWritable(true);
  await manager.queue(spec(), 'train.py');
  await manager.kick();

  assert.equal(host.launches.length, 0, 'nothing started');
  assert.ok(warnings.some((w) => w.startsWith('Did not start train.py')), warnings.join('\n'));
  await assert.rejects(manager.queue(spec(), 'train.py'), FencedError);
});
