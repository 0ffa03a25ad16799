import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../src/core/emitter';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { validateState } from '../../src/core/storeValidation';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import type { JobNote, LaunchRequest, LaunchResult } from '../../src/core/host';
import { FakeHost, makeJob, MemoryPersistence } from '../support/builders';

/** A FakeHost that answers like a Slurm host: a Slurm handle instead of a process group, and notes about its jobs. */
class FakeSlurmHost extends FakeHost {
  private readonly notes = new Emitter<JobNote>();
  readonly onDidUpdateJob = this.notes.event;
  override async launch(request: LaunchRequest): Promise<LaunchResult> {
    await super.launch(request);
    return { kind: 'slurm', jobId: String(100 + this.launches.length) };
  }
  note(jobId: string, note: string | undefined): void {
    this.notes.fire({ jobId, note });
  }
}

function setup(retries = 0) {
  const host = new FakeSlurmHost('cluster', 4);
  const persistence = new MemoryPersistence();
  let id = 0;
  const manager = new JobManager({
    persistence,
    state: emptyWorkspaceState(),
    hosts: [host],
    placement: new MostFreeGpusPlacement(),
    classifier: { classify: () => ({ priority: 'medium', path: 'test' }), retrain: () => undefined },
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries }),
    removeJobFiles: async () => undefined,
    newId: () => `j${++id}`,
  });
  manager.setWritable(true);
  return { host, persistence, manager };
}

const spec = { script: '/ws/train.py', args: [], cwd: '/ws', gpus: 1, importance: 'normal' as const, runtimeSec: 600 };

test('the Slurm handle is stored with the job and saved', async () => {
  const { persistence, manager } = setup();
  const job = await manager.queue(spec, 'k');
  await manager.kick();
  assert.deepEqual(job.handle, { kind: 'slurm', jobId: '101' });
  assert.deepEqual(JSON.parse(persistence.saves.at(-1)!).jobs[0].handle, { kind: 'slurm', jobId: '101' });
});

test("a host's note becomes the running job's reason and redraws the queue; other hosts' jobs are untouched", async () => {
  const { host, manager } = setup();
  const job = await manager.queue(spec, 'k');
  await manager.kick();
  let changes = 0;
  manager.onDidChangeJobs(() => changes++);
  host.note(job.id, 'Pending in Slurm (job 101): Resources');
  assert.equal(job.reason, 'Pending in Slurm (job 101): Resources');
  assert.equal(changes, 1);
  host.note(job.id, 'Pending in Slurm (job 101): Resources');
  assert.equal(changes, 1, 'the same note does not redraw');
  host.note('someone-else', 'x');
  assert.equal(changes, 1);
});

test('a failure with a reason keeps it (TIMEOUT); NODE_FAIL is Lost and retried when allowed', async () => {
  const { host, manager } = setup(1);
  const a = await manager.queue(spec, 'k');
  const b = await manager.queue(spec, 'k');
  await manager.kick();
  host.exit(a.id, 143, 'Slurm time limit');
  host.exit(b.id, undefined, 'Slurm job 102 ended with NODE_FAIL: a node of the job failed (n1).');
  await manager.kick();
  assert.equal(a.state, 'failed');
  assert.equal(a.reason, 'Slurm time limit');
  assert.equal(b.state, 'lost');
  assert.match(b.reason ?? '', /NODE_FAIL/);
  const retries = manager.jobs.filter((j) => j.retryOf !== undefined).map((j) => j.retryOf);
  assert.deepEqual(retries.sort(), [a.id, b.id].sort());
});

test('a job that ended while the window was closed keeps the reason its host gives (TIMEOUT after a reload)', async () => {
  const { host, manager } = setup();
  const job = await manager.queue(spec, 'k');
  await manager.kick();
  host.reattachResult = { kind: 'exited', exitCode: 143, reason: 'Slurm time limit' };
  await manager.reconcile();
  assert.equal(job.state, 'failed');
  assert.equal(job.exitCode, 143);
  assert.equal(job.reason, 'Slurm time limit');
});

test('the store accepts a digit Slurm id and rejects anything else', () => {
  const state = (jobId: unknown) => ({
    ...emptyWorkspaceState(),
    jobs: [{ ...makeJob({ state: 'running', host: 'cluster', gpuIndices: [0], startedAt: 1 }), handle: { kind: 'slurm', jobId } }],
  });
  assert.doesNotThrow(() => validateState(state('123')));
  assert.throws(() => validateState(state(undefined)), /handle\.jobId is not a Slurm job id/);
  assert.throws(() => validateState(state('1; rm -rf ~')), /handle\.jobId is not a Slurm job id/);
  assert.throws(() => validateState(state(12)), /handle\.jobId is not a Slurm job id/);
  assert.throws(() => validateState(state('1'.repeat(21))), /handle\.jobId/);
});
