// The GPU idle warning through the real probe path: a JobManager with the real LocalHost, whose
// nvidia-smi is the fixture fake (two A100s) reporting whatever utilisation a file says, and a real
// 2-GPU job (a shell script that sleeps). The tracker is fed from onDidChangeHosts exactly as the UI
// feeds it (ui/gpuIdleWarnings.ts), with the real probes' own timestamps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GpuIdleTracker } from '../../src/core/gpuIdle';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { LocalHost } from '../../src/hosts/local/localHost';
import { MemoryPersistence } from '../support/builders';
import { waitFor } from '../support/waiting';

const FAKE_SMI = path.join(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');
const THRESHOLD_MS = 1_000;

let root: string;
let utilFile: string;
let smi: string;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-gpuidle-'));
  utilFile = path.join(root, 'util');
  smi = path.join(root, 'nvidia-smi');
  // The test changes the utilisation between probes by rewriting one file.
  await fs.writeFile(smi, `#!/bin/sh\nTRAINQ_FAKE_GPUS=2 TRAINQ_FAKE_GPU_UTIL="$(cat '${utilFile}')" exec '${FAKE_SMI}' "$@"\n`, { mode: 0o755 });
});

after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

test('a real local job on GPUs the fake nvidia-smi reports at 0 % is marked idle; a busy probe resets it, [N/A] never counts', async () => {
  await fs.writeFile(utilFile, '0');
  const work = path.join(root, 'work');
  await fs.mkdir(work);
  const script = path.join(work, 'train_idle.sh');
  await fs.writeFile(script, 'sleep 60\n');
  const host = new LocalHost({ jobsRoot: path.join(root, 'jobs'), maxJobs: 2, nvidiaSmi: smi, logger: silentLogger, pollMs: 50, sweepGraceSec: 1 });
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
  const tracker = new GpuIdleTracker(5_000);
  const sub = manager.onDidChangeHosts(() => tracker.observe(manager.jobs, manager.hostStatuses()));
  try {
    const job = await manager.queue({ script, args: [], cwd: work, gpus: 2, importance: 'normal', runtimeSec: 60 });
    await manager.kick();
    assert.equal(job.state, 'running', job.reason);
    assert.deepEqual(job.gpuIndices, [0, 1]);

    const probeUntil = async (what: string, check: () => boolean) =>
      waitFor(what, async () => (await manager.refreshHosts(), check()), 15_000);

    await probeUntil('the job idle past the threshold', () => (tracker.idleMs(job.id) ?? 0) >= THRESHOLD_MS);
    assert.deepEqual(tracker.newlyIdle(THRESHOLD_MS), [job.id], 'crossed once');
    const status = manager.hostStatuses().find((s) => s.name === 'local')!;
    assert.deepEqual(status.gpus.map((g) => g.utilizationPct), [0, 0], 'through the real nvidia-smi parser');

    await fs.writeFile(utilFile, '35');
    await probeUntil('a busy probe resetting the streak', () => tracker.idleMs(job.id) === undefined);

    await fs.writeFile(utilFile, '[N/A]');
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      await manager.refreshHosts();
      assert.equal(tracker.idleMs(job.id), undefined, '[N/A] is not idle');
    }
    assert.equal(manager.hostStatuses()[0].gpus[0].utilizationPct, undefined);

    await fs.writeFile(utilFile, '0');
    await probeUntil('idle again', () => tracker.idleMs(job.id) !== undefined);
    assert.deepEqual(tracker.newlyIdle(0), [], 'a job is reported once per run');

    await manager.cancel(job.id);
    await waitFor('the job to end', () => job.state === 'cancelled', 15_000);
    await manager.refreshHosts();
    assert.equal(tracker.idleMs(job.id), undefined, 'an ended job is forgotten');
  } finally {
    sub.dispose();
    manager.dispose();
    host.dispose();
  }
});
