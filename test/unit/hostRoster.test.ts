import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostRoster } from '../../src/core/hostRoster';
import { gpuDescription } from '../../src/ui/hostFormat';
import { shortWaitingReason } from '../../src/ui/jobFormat';
import { dispatchOrder } from '../../src/core/jobQueues';
import { silentLogger } from '../../src/core/logger';
import { FirstFitPlacement } from '../../src/core/placementPolicies';
import { buildCandidates, planDispatch } from '../../src/core/scheduler';
import type { HostStatus } from '../../src/core/host';
import { FakeHost, makeJob } from '../support/builders';

function roster(logged: string[] = []) {
  const events: string[] = [];
  const logger = { ...silentLogger, info: (m: string) => void logged.push(m), warn: (m: string) => void logged.push(m) };
  const r = new HostRoster(
    {
      exited: (host, report) => events.push(`exit ${host.name} ${report.jobId}`),
      statusChanged: () => events.push('status'),
      noted: (host, note) => events.push(`note ${host.name} ${note.jobId}`),
    },
    () => 42,
    logger,
  );
  return { r, events };
}

/** A FakeHost whose probe reports one GPU busy with a process TrainQ did not start, and a Slurm wait. */
class BusyHost extends FakeHost {
  override async probe(): Promise<HostStatus> {
    const status = await super.probe();
    status.gpus[0].foreignProcesses = 1;
    return { ...status, slurm: { partition: 'gpu', nodes: 1, gpusTotal: 4, gpusAllocated: 1, gpusIdle: 3, expectedWaitSec: 90 } };
  }
}

test('offers leave out GPUs busy with foreign processes and carry a learned queue wait; unprobed hosts are offline', async () => {
  const { r } = roster();
  const busy = new BusyHost('busy', 4, 8, 1.5);
  const idle = new FakeHost('idle', 2);
  r.set([busy, idle]);
  assert.equal(r.probed, false);
  assert.deepEqual(
    r.offers().map((o) => [o.name, o.online]),
    [
      ['busy', false],
      ['idle', false],
    ],
  );
  await r.probeAll();
  assert.equal(r.probed, true);
  const [b, i] = r.offers();
  assert.deepEqual([b.gpuIndices, b.speed, b.expectedWaitSec], [[1, 2, 3], 1.5, 90]);
  assert.deepEqual([i.gpuIndices, 'expectedWaitSec' in i], [[0, 1], false]);
});

test('a probe that throws shows the host offline with the error; a removed host loses its status', async () => {
  const { r } = roster();
  const broken = new FakeHost('broken', 1);
  broken.probe = async () => {
    throw new Error('nvidia-smi hung');
  };
  const ok = new FakeHost('ok', 1);
  r.set([broken, ok]);
  await r.probeAll();
  assert.deepEqual(r.statusList()[0], { name: 'broken', kind: 'local', state: 'offline', gpus: [], error: 'nvidia-smi hung', probedAt: 42 });
  r.set([ok]);
  assert.deepEqual(
    r.statusList().map((s) => s.name),
    ['ok'],
  );
});

test("host events are passed on, only from the current hosts; set returns the hosts that are new", () => {
  const { r, events } = roster();
  const a = new FakeHost('a', 1);
  const b = new FakeHost('b', 1);
  assert.deepEqual(r.set([a]), [a]);
  assert.deepEqual(r.set([a, b]), [b]);
  a.exit('j1', 0);
  r.set([b]);
  a.exit('j2', 0);
  b.exit('j3', 1);
  assert.deepEqual(events, ['exit a j1', 'exit b j3']);
  r.dispose();
  b.exit('j4', 0);
  assert.deepEqual(events, ['exit a j1', 'exit b j3']);
});

test('forget asks each host once for its own removed jobs and logs what a host could not delete', async () => {
  const logged: string[] = [];
  const { r } = roster(logged);
  const asked: string[][] = [];
  const remote = new FakeHost('remote', 1);
  remote.forget = async (jobs) => {
    asked.push(jobs.map((j) => j.id));
    return { removed: jobs.length, kept: 0 };
  };
  const down = new FakeHost('down', 1);
  down.forget = async () => {
    throw new Error('connection refused');
  };
  r.set([remote, down, new FakeHost('local', 1)]);
  await r.forget([
    makeJob({ id: 'r1', host: 'remote' }),
    makeJob({ id: 'r2', host: 'remote' }),
    makeJob({ id: 'd1', host: 'down' }),
    makeJob({ id: 'l1', host: 'local' }),
    makeJob({ id: 'q1' }),
  ]);
  assert.deepEqual(asked, [['r1', 'r2']]);
  assert.ok(logged.some((m) => /remote: deleted 2 job folder/.test(m)));
  assert.ok(logged.some((m) => /down: could not delete the folders of 1 removed job\(s\) \(connection refused\)/.test(m)));
});

/** A FakeHost whose GPU 1 still holds a process of the ended job `done-7`. */
class LeftoverHost extends FakeHost {
  override async probe(): Promise<HostStatus> {
    const status = await super.probe();
    status.gpus[1].leftoverJobs = ['done-7'];
    return status;
  }
}

test('a GPU still used by an ended job\'s process is not offered, and the waiting reason names the job', async () => {
  const { r } = roster();
  r.set([new LeftoverHost('local', 2)]);
  await r.probeAll();
  const [offer] = r.offers();
  assert.deepEqual([offer.gpuIndices, offer.leftovers], [[0], [{ gpu: 1, jobId: 'done-7' }]]);

  const ended = makeJob({ id: 'done-7', name: 'train.py', state: 'succeeded' });
  const wide = makeJob({ id: 'q-2', gpus: 2, state: 'queued' });
  const narrow = makeJob({ id: 'q-1', gpus: 1, state: 'queued' });
  const busy = makeJob({ id: 'run-1', gpus: 1, state: 'running', host: 'local', gpuIndices: [0] });
  const jobs = [ended, wide, narrow, busy];
  const plan = planDispatch(dispatchOrder(jobs, 0, 0), buildCandidates(r.offers(), jobs), new FirstFitPlacement());
  assert.equal(plan.waiting.get('q-2'), 'Needs 2 GPUs on one host; the largest host has 1 (local: GPU 1 still used by a process of job train.py after it ended).');
  assert.equal(plan.waiting.get('q-1'), 'Waiting for 1 free GPU on one host (local: GPU 1 still used by a process of job train.py after it ended).');
  assert.equal(shortWaitingReason(plan.waiting.get('q-1')!), 'waiting for 1 free GPU (local: GPU 1 still used by a process of job train.py after it ended)');
  // A job no longer in the history is named by its id.
  const byId = planDispatch(dispatchOrder([narrow, busy], 0, 0), buildCandidates(r.offers(), [narrow, busy]), new FirstFitPlacement());
  assert.match(byId.waiting.get('q-1') ?? '', /GPU 1 still used by a process of job done-7 after it ended/);
  const [status] = r.statusList();
  assert.equal(gpuDescription(status.gpus[1]), 'n/a · still used by a process of job done-7 after it ended');
});
