// Host constraints through real hosts (issue 16, item 5): a JobManager dispatching real processes to
// the local host (GPUs from the fixture nvidia-smi: four A100s, some with memory in use) and a loopback
// SSH host labelled "lab" (two fake A100s). The shipped most-free-GPUs placement prefers the local
// machine (more GPUs), so a job that runs on the SSH host got there because of its constraints; the
// memory constraint must pick the local GPUs that have the memory free, seen by the job itself
// (CUDA_VISIBLE_DEVICES); an impossible GPU model never starts anywhere and says why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Host } from '../../src/core/host';
import type { Job, JobSpec } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { silentLogger } from '../../src/core/logger';
import { MostFreeGpusPlacement } from '../../src/core/placement';
import { PriorityClassifier } from '../../src/core/priorityClassifier';
import { emptyWorkspaceState } from '../../src/core/workspaceState';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { LocalHost } from '../../src/hosts/local/localHost';
import { SlurmHost } from '../../src/hosts/slurm/slurmHost';
import { SshHost } from '../../src/hosts/ssh/sshHost';
import { MemoryPersistence } from '../support/builders';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { waitFor } from '../support/waiting';

const FAKE_NVIDIA_SMI = path.join(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');
const skip = ensureOpenSsh();
let root: string;
let work: string;
let fx: SshdFixture | undefined;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-constraints-'));
  work = path.join(root, 'proj');
  await fs.mkdir(work, { recursive: true });
});

after(async () => {
  await fx?.stop();
  await fs.rm(root, { recursive: true, force: true });
});

const spec = (script: string, gpus: number, constraints: JobSpec['constraints']): JobSpec => ({
  script, args: [], cwd: work, gpus, importance: 'normal', runtimeSec: 60, constraints,
});

function managerOn(hosts: Host[]): JobManager {
  const manager = new JobManager({
    persistence: new MemoryPersistence(),
    state: emptyWorkspaceState(),
    hosts,
    placement: new MostFreeGpusPlacement(),
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  return manager;
}

test('a job requiring the SSH host by label or name runs there, a memory minimum picks the GPUs with room, an impossible model never starts', { timeout: 90_000 }, async (t) => {
  if (skip) {
    t.skip(skip);
    return;
  }
  fx = await SshdFixture.start([{ name: 'gpu-a', gpus: 2 }]);
  const local = new LocalHost({ jobsRoot: path.join(root, 'jobs'), maxJobs: 4, nvidiaSmi: FAKE_NVIDIA_SMI, logger: silentLogger, pollMs: 50 });
  const ssh = new SshHost({
    config: fx.hostConfig('gpu-a', { labels: ['lab'] }),
    jobsRoot: path.join(root, 'ssh-jobs'),
    controlDir: path.join(fx.root, 'ctl'),
    logger: silentLogger,
    sshConfigFile: fx.sshConfig,
    pollMs: 100,
    lostAfterMs: 60_000,
    backoff: { baseMs: 300, maxMs: 1000 },
    connectTimeoutSec: 5,
  });
  const hosts: Host[] = [local, ssh];
  const manager = managerOn(hosts);
  try {
    const script = path.join(work, 'show.sh');
    await fs.writeFile(script, 'echo "gpus=$CUDA_VISIBLE_DEVICES home=$HOME"\n');
    await manager.refreshHosts(true);
    // Unconstrained, the placement would take local (4 GPUs free against 2).
    const byLabel = await manager.queue(spec(script, 1, { require: ['lab'] }));
    const byName = await manager.queue(spec(script, 1, { require: ['GPU-A'], gpuModel: 'a100' }));
    // Local GPU memory free: 0 → 10 GiB, 1 → 40 GiB, 2 → 39 GiB, 3 → 20 GiB (fixture): only 1 and 2 have 30 GiB.
    const roomy = await manager.queue(spec(script, 2, { exclude: ['lab'], minGpuMemMiB: 30 * 1024 }));
    const impossible = await manager.queue(spec(script, 1, { gpuModel: 'H100' }));
    const control = await manager.queue(spec(script, 1, undefined));
    const finished = (...jobs: Job[]) => () => jobs.every((j) => j.state === 'succeeded' || j.state === 'failed');
    await waitFor('the four possible jobs to end', async () => (await manager.kick(), finished(byLabel, byName, roomy, control)()), 60_000);
    assert.deepEqual(
      [byLabel, byName, roomy, control].map((j) => [j.host, j.state, j.exitCode]),
      [
        ['gpu-a', 'succeeded', 0],
        ['gpu-a', 'succeeded', 0],
        ['local', 'succeeded', 0],
        ['local', 'succeeded', 0],
      ],
    );
    assert.deepEqual(roomy.gpuIndices, [1, 2]);
    const log = await fs.readFile(local.logPath(roomy.id), 'utf8');
    assert.match(log, /gpus=1,2 /, 'the job saw exactly the GPUs with room');
    await manager.kick();
    assert.equal(impossible.state, 'queued');
    assert.equal(impossible.startedAt, undefined);
    assert.equal(
      manager.waitingReason(impossible.id),
      'No host can run this job (GPU model H100): local has no H100 GPU (NVIDIA A100-SXM4-40GB); gpu-a has no H100 GPU (NVIDIA A100-SXM4-40GB).',
    );
  } finally {
    manager.dispose();
    for (const h of hosts) h.dispose();
    await ssh.closeConnection();
  }
});

test('Slurm: a job requiring the partition label runs there; a GPU model can never match a partition, and the queue says to use a label', { timeout: 90_000 }, async (t) => {
  const noSlurm = ensureSlurm();
  if (noSlurm) {
    t.skip(noSlurm);
    return;
  }
  const cluster = await SlurmCluster.start({ gpus: 2 });
  const local = new LocalHost({ jobsRoot: path.join(root, 'jobs-2'), maxJobs: 4, nvidiaSmi: FAKE_NVIDIA_SMI, logger: silentLogger, pollMs: 50 });
  const slurm = new SlurmHost({
    config: parseSlurmHostConfig({ name: 'slurm-local', type: 'slurm', target: 'local', partition: 'gpu', labels: ['cluster'] }),
    jobsRoot: path.join(root, 'slurm-jobs'),
    logger: silentLogger,
    localEnv: cluster.env,
    controlDir: path.join(root, 'ctl'),
    pollMs: 200,
    lostAfterMs: 60_000,
    backoff: { baseMs: 300, maxMs: 1000 },
  });
  const hosts: Host[] = [local, slurm];
  const manager = managerOn(hosts);
  try {
    const script = path.join(work, 'slurm-show.sh');
    await fs.writeFile(script, 'echo "on slurm: $SLURM_JOB_ID"\n');
    await manager.refreshHosts(true);
    const onCluster = await manager.queue(spec(script, 1, { require: ['cluster'] }));
    const modelled = await manager.queue(spec(script, 1, { require: ['cluster'], gpuModel: 'A100' }));
    await waitFor('the Slurm job to end', async () => (await manager.kick(), onCluster.state === 'succeeded' || onCluster.state === 'failed'), 60_000);
    assert.deepEqual([onCluster.host, onCluster.state, onCluster.handle?.kind], ['slurm-local', 'succeeded', 'slurm']);
    await manager.kick();
    assert.equal(modelled.state, 'queued');
    assert.equal(
      manager.waitingReason(modelled.id),
      'No host can run this job (requires cluster · GPU model A100): local is not cluster (no labels); slurm-local does not report GPU models or memory (a Slurm partition: give it a label and require that).',
    );
  } finally {
    manager.dispose();
    for (const h of hosts) h.dispose();
    await cluster.stop();
  }
});
