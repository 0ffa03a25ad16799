// Dependencies through the JobManager and its dispatcher (issue 16, item 1): queueing with `after`,
// never dispatching early, "dependency failed" on a failure, cancel or loss (cascading), Clear
// Dependencies, cycles refused with nothing changed, automatic retries, and a reload through the store.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { JobFeatures, JobSpec, Priority } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { JobStore } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { emptyWorkspaceState, type WorkspaceState } from '../../src/core/workspaceState';
import { FakeHost, MemoryPersistence } from '../support/builders';

const classifier = {
  classify: (f: JobFeatures): { priority: Priority; path: string } => ({ priority: f.importance === 'high' ? 'high' : 'medium', path: 'rule' }),
  retrain: () => undefined,
};

const spec = (name: string, over: Partial<JobSpec> = {}): JobSpec => ({
  script: `/ws/${name}`, args: [], cwd: '/ws', gpus: 1, importance: 'normal', runtimeSec: 600, ...over,
});

function setup(opts: { gpus?: number; retries?: number; state?: WorkspaceState; persistence?: { save(s: WorkspaceState): Promise<void> }; ids?: string } = {}) {
  const host = new FakeHost('local', opts.gpus ?? 4);
  const persistence = opts.persistence ?? new MemoryPersistence();
  let t = 1000;
  let id = 0;
  const manager = new JobManager({
    persistence,
    state: opts.state ?? emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier,
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: opts.retries ?? 0 }),
    removeJobFiles: async () => undefined,
    now: () => t++,
    newId: () => `${opts.ids ?? 'j'}${++id}`,
  });
  manager.setWritable(true);
  // Tests that read saves pass no persistence of their own.
  return { host, persistence: persistence as MemoryPersistence, manager };
}

const settle = async (manager: JobManager) => {
  await new Promise((r) => setImmediate(r));
  await manager.kick();
};

test('a dependent never starts before its dependency ended, though GPUs are free, and does not block others', async () => {
  const { host, manager } = setup();
  const a = await manager.queue(spec('prep.sh'));
  // High importance: first in the order, yet it must wait, and `free` behind it must start.
  const b = await manager.queue(spec('train.py', { importance: 'high', after: { mode: 'after-ok', jobs: [a.id] } }));
  const free = await manager.queue(spec('other.py'));
  await settle(manager);
  assert.equal(a.state, 'running');
  assert.equal(free.state, 'running');
  assert.equal(b.state, 'queued');
  assert.equal(manager.waitingReason(b.id), 'Waits for prep.sh to succeed.');
  for (let round = 0; round < 5; round++) {
    await manager.kick();
  }
  assert.equal(b.state, 'queued', 'still waiting after more rounds');
  assert.deepEqual(host.launches.map((l) => l.job.id).sort(), [a.id, free.id].sort());
  host.exit(a.id, 0);
  await settle(manager);
  assert.equal(b.state, 'running');
});

test('after: a failed dependency still lets the dependent run', async () => {
  const { host, manager } = setup();
  const a = await manager.queue(spec('prep.sh'));
  const b = await manager.queue(spec('train.py', { after: { mode: 'after', jobs: [a.id] } }));
  await settle(manager);
  host.exit(a.id, 3);
  await settle(manager);
  assert.equal(a.state, 'failed');
  assert.equal(b.state, 'running');
});

test('after-ok: a failure marks dependents "dependency failed", cascading, saved, and nothing of theirs runs', async () => {
  const { host, persistence, manager } = setup();
  const a = await manager.queue(spec('prep.sh'));
  const b = await manager.queue(spec('train.py', { after: { mode: 'after-ok', jobs: [a.id] } }));
  const c = await manager.queue(spec('eval.py', { after: { mode: 'after-ok', jobs: [b.id] } }));
  const d = await manager.queue(spec('report.py', { after: { mode: 'after', jobs: [b.id] } }));
  await settle(manager);
  host.exit(a.id, 1);
  await settle(manager);
  assert.deepEqual([b.state, b.dependencyFailed], ['cancelled', a.id]);
  assert.match(b.reason!, /^Dependency failed: prep\.sh ended failed\.$/);
  assert.deepEqual([c.state, c.dependencyFailed], ['cancelled', b.id]);
  assert.equal(d.state, 'running', 'after: b ended (without running), so d may run');
  assert.deepEqual(host.launches.map((l) => l.job.id).sort(), [a.id, d.id].sort());
  const saved = persistence.last().jobs.find((j) => j.id === c.id)!;
  assert.equal(saved.dependencyFailed, b.id);
});

test('cancelling a queued or running dependency, or losing it, fails its after-ok dependents', async () => {
  const { host, manager } = setup({ gpus: 1 });
  const running = await manager.queue(spec('a.py'));
  await settle(manager);
  const queued = await manager.queue(spec('b.py'));
  const onQueued = await manager.queue(spec('c.py', { after: { mode: 'after-ok', jobs: [queued.id] } }));
  const onRunning = await manager.queue(spec('d.py', { after: { mode: 'after-ok', jobs: [running.id] } }));
  await manager.cancel(queued.id);
  await settle(manager);
  assert.equal(onQueued.dependencyFailed, queued.id);
  assert.match(onQueued.reason!, /b\.py ended cancelled/);
  host.exit(running.id, undefined, 'killed from outside');
  await settle(manager);
  assert.equal(running.state, 'lost');
  assert.equal(onRunning.dependencyFailed, running.id);
});

test('setDependencies: set, refused cycle (nothing changed, nothing saved), cleared; only on queued jobs', async () => {
  const { persistence, manager } = setup({ gpus: 0 });
  const a = await manager.queue(spec('a.py'));
  const b = await manager.queue(spec('b.py', { after: { mode: 'after', jobs: [a.id] } }));
  await manager.setDependencies(a.id, undefined);
  const saves = persistence.saves.length;
  await assert.rejects(manager.setDependencies(a.id, { mode: 'after-ok', jobs: [b.id] }), /cycle.*a\.py → b\.py → a\.py/);
  assert.equal(a.after, undefined);
  assert.equal(persistence.saves.length, saves, 'a refused change is not saved');
  await assert.rejects(manager.queue(spec('c.py', { after: { mode: 'after', jobs: ['missing'] } })), /"missing" is not in the queue/);
  assert.equal(manager.jobs.length, 2, 'nothing queued');
  await manager.setDependencies(b.id, undefined);
  assert.equal(b.after, undefined);
  assert.equal(persistence.last().jobs[1].after, undefined);
});

test('a failed dependency retried by trainq.retries: its dependents wait for the retry instead', async () => {
  const { host, manager } = setup({ retries: 1 });
  const a = await manager.queue(spec('prep.sh'));
  const b = await manager.queue(spec('train.py', { after: { mode: 'after-ok', jobs: [a.id] } }));
  await settle(manager);
  host.exit(a.id, 1);
  await settle(manager);
  const retry = manager.jobs.find((j) => j.retryOf === a.id)!;
  assert.equal(retry.state, 'running');
  assert.equal(b.state, 'queued');
  assert.deepEqual(b.after?.jobs, [retry.id]);
  host.exit(retry.id, 0);
  await settle(manager);
  assert.equal(b.state, 'running');
});

test('Clear Finished settles dependents first: a dependency that succeeded and left lets them run', async () => {
  const { host, manager } = setup({ gpus: 1 });
  const a = await manager.queue(spec('a.py'));
  const other = await manager.queue(spec('other.py'));
  await settle(manager);
  const b = await manager.queue(spec('b.py', { after: { mode: 'after-ok', jobs: [a.id] } }));
  host.exit(a.id, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(await manager.clearFinished(), 1);
  assert.equal(b.after, undefined, 'satisfied: no longer waits');
  host.exit(other.id, 0);
  await settle(manager);
  assert.equal(b.state, 'running');
});

test('dependencies survive a reload through the store, and the reloaded queue still honours them', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-deps-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const { store } = await JobStore.open(dir, silentLogger);
  const first = setup({ persistence: store });
  const a = await first.manager.queue(spec('a.py'));
  const b = await first.manager.queue(spec('b.py', { after: { mode: 'after-ok', jobs: [a.id] } }));
  const failed = await first.manager.queue(spec('c.py', { after: { mode: 'after-ok', jobs: ['j1'] } }));
  await first.manager.cancel(a.id);
  await settle(first.manager);
  assert.equal(failed.dependencyFailed, a.id);
  first.manager.dispose();

  const reopened = await JobStore.open(dir, silentLogger);
  assert.deepEqual(reopened.setAside ?? [], []);
  const byId = new Map(reopened.state.jobs.map((j) => [j.id, j]));
  assert.deepEqual(byId.get(b.id)?.after, { mode: 'after-ok', jobs: [a.id] });
  assert.equal(byId.get(b.id)?.dependencyFailed, a.id);
  assert.equal(byId.get(failed.id)?.dependencyFailed, a.id);

  // A queued dependent reloaded while its dependency runs keeps waiting in the new window.
  const { store: store2 } = await JobStore.open(dir, silentLogger);
  const second = setup({ persistence: store2, state: reopened.state, ids: 'second-' });
  const x = await second.manager.queue(spec('x.py', { gpus: 0 }));
  const y = await second.manager.queue(spec('y.py', { gpus: 0, after: { mode: 'after', jobs: [x.id] } }));
  second.manager.dispose();
  const third = setup({ persistence: store2, state: (await JobStore.open(dir, silentLogger)).state, ids: 'third-' });
  await settle(third.manager);
  const x3 = third.manager.job(x.id)!;
  const y3 = third.manager.job(y.id)!;
  assert.equal(x3.state, 'running');
  assert.equal(y3.state, 'queued');
  assert.deepEqual(y3.after, { mode: 'after', jobs: [x.id] });
  third.host.exit(x.id, 0);
  await settle(third.manager);
  assert.equal(y3.state, 'running');
  third.manager.dispose();
});
