// Dependencies through real hosts (issue 16, item 1): a JobManager dispatching real processes on the
// local host, on a loopback SSH host and on a one-node Slurm cluster. Each dependent checks, when it
// starts, that what it waits for has written its marker, so "never early" is checked by the job
// itself; a failing job's after-ok dependent must never reach any host. Markers live in a folder all
// three hosts see (they are this machine).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Host } from '../../src/core/host';
import type { Job, JobSpec } from '../../src/core/job';
import { JobManager } from '../../src/core/jobManager';
import { JobStore } from '../../src/core/jobStore';
import { silentLogger } from '../../src/core/logger';
import type { Placement } from '../../src/core/placement';
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

let root: string;
let work: string;
let marks: string;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-deps-'));
  work = path.join(root, 'proj');
  marks = path.join(root, 'marks');
  await fs.mkdir(work, { recursive: true });
  await fs.mkdir(marks);
});

after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Each job goes to the host its script's name starts with (`ssh-…`, `slurm-…`, else local). */
const byName: Placement = {
  name: 'by-script-name',
  choose(job, feasible) {
    const wanted = job.name.startsWith('ssh-') ? 'gpu-a' : job.name.startsWith('slurm-') ? 'slurm-local' : 'local';
    const host = feasible.find((c) => c.host === wanted);
    return host ? { kind: 'place', host: host.host } : { kind: 'wait', reason: `waiting for ${wanted}` };
  },
};

function managerOn(hosts: Host[], store?: { persistence: JobStore; state: ReturnType<typeof emptyWorkspaceState> }): JobManager {
  const manager = new JobManager({
    persistence: store?.persistence ?? new MemoryPersistence(),
    state: store?.state ?? emptyWorkspaceState(),
    hosts,
    placement: byName,
    classifier: new PriorityClassifier(),
    logger: silentLogger,
    settings: () => ({ agingMinutes: 60, cancelGraceSeconds: 1, retries: 0 }),
    removeJobFiles: async () => undefined,
  });
  manager.setWritable(true);
  return manager;
}

/** A script that (optionally) checks a marker exists, sleeps, writes its own marker, and exits with `code`. */
async function script(name: string, opts: { needs?: string; sleep?: number; code?: number } = {}): Promise<string> {
  const file = path.join(work, name);
  const check = opts.needs ? `test -f '${path.join(marks, opts.needs)}' || exit 7\n` : '';
  await fs.writeFile(file, `${check}sleep ${opts.sleep ?? 0}\necho done > '${path.join(marks, name)}'\nexit ${opts.code ?? 0}\n`);
  return file;
}

const spec = (file: string, after?: JobSpec['after']): JobSpec => ({
  script: file, args: [], cwd: work, gpus: 0, importance: 'normal', runtimeSec: 60, ...(after && { after }),
});

const localHost = () => new LocalHost({ jobsRoot: path.join(root, 'jobs'), maxJobs: 4, nvidiaSmi: path.join(root, 'no-nvidia-smi'), logger: silentLogger, pollMs: 50 });

/** Rounds run on each change; a poll keeps the test from hanging on a missed one. */
async function until(manager: JobManager, what: string, check: () => boolean, ms = 30_000): Promise<void> {
  await waitFor(what, async () => (await manager.kick(), check()), ms);
}

const ended = (...jobs: Job[]) => () => jobs.every((j) => j.state !== 'queued' && j.state !== 'running');

test('local: a chain runs in order; a failure marks its after-ok dependents dependency failed, and they never start', async () => {
  const host = localHost();
  const manager = managerOn([host]);
  try {
    const a = await manager.queue(spec(await script('a.sh', { sleep: 1 })));
    const b = await manager.queue(spec(await script('b.sh', { needs: 'a.sh' }), { mode: 'after-ok', jobs: [a.id] }));
    const c = await manager.queue(spec(await script('c.sh', { needs: 'b.sh' }), { mode: 'after', jobs: [b.id] }));
    const f = await manager.queue(spec(await script('f.sh', { code: 3 })));
    const g = await manager.queue(spec(await script('g.sh'), { mode: 'after-ok', jobs: [f.id] }));
    const h = await manager.queue(spec(await script('h.sh'), { mode: 'after-ok', jobs: [g.id] }));
    await until(manager, 'the chain and the failure to end', ended(a, b, c, f, g, h));
    assert.deepEqual([a, b, c].map((j) => [j.name, j.state, j.exitCode]), [['a.sh', 'succeeded', 0], ['b.sh', 'succeeded', 0], ['c.sh', 'succeeded', 0]]);
    assert.ok(b.startedAt! >= a.endedAt!, 'b started after a ended');
    assert.equal(f.state, 'failed');
    assert.deepEqual([g.state, g.dependencyFailed, h.dependencyFailed], ['cancelled', f.id, g.id]);
    assert.equal(g.startedAt, undefined, 'never started');
    await assert.rejects(fs.access(path.join(marks, 'g.sh')), 'g never ran');
    await assert.rejects(fs.access(path.join(marks, 'h.sh')), 'h never ran');
  } finally {
    manager.dispose();
    host.dispose();
  }
});

test('a window closed while the dependency runs: it ends unwatched, the next window records it and starts the dependent once', async () => {
  const storeDir = path.join(root, 'store');
  const first = await JobStore.open(storeDir, silentLogger);
  const host1 = localHost();
  const manager1 = managerOn([host1], { persistence: first.store, state: first.state });
  const a = await manager1.queue(spec(await script('unwatched.sh', { sleep: 1 })));
  const b = await manager1.queue(spec(await script('after-unwatched.sh', { needs: 'unwatched.sh' }), { mode: 'after-ok', jobs: [a.id] }));
  await until(manager1, 'the dependency to start', () => a.state === 'running');
  assert.equal(b.state, 'queued');
  // The window goes away with the job running; it ends while nobody watches.
  manager1.dispose();
  host1.dispose();
  await waitFor('the unwatched job to write its marker', async () => fs.access(path.join(marks, 'unwatched.sh')).then(() => true, () => false), 15_000);
  await new Promise((r) => setTimeout(r, 300));

  const second = await JobStore.open(storeDir, silentLogger);
  const host2 = localHost();
  const manager2 = managerOn([host2], { persistence: second.store, state: second.state });
  try {
    await manager2.reconcile();
    const a2 = manager2.job(a.id)!;
    const b2 = manager2.job(b.id)!;
    assert.equal(a2.state, 'succeeded', a2.reason);
    await until(manager2, 'the dependent to end', ended(b2));
    assert.deepEqual([b2.state, b2.exitCode], ['succeeded', 0], 'it found the marker: started after the dependency ended');
    assert.equal(manager2.jobs.filter((j) => j.name === 'after-unwatched.sh').length, 1, 'started once, no copy');
    // The end is saved just after it is recorded in memory: read the store until the save has landed.
    const saved = async () => (await JobStore.open(storeDir, silentLogger)).state.jobs.map((j) => `${j.name} ${j.state}`).join(', ');
    await waitFor('the store to hold both ends', async () => (await saved()) === 'unwatched.sh succeeded, after-unwatched.sh succeeded', 5_000);
  } finally {
    manager2.dispose();
    host2.dispose();
  }
});

test('across host kinds: an SSH job waits for a local job, and a Slurm job for the SSH one', { timeout: 120_000 }, async (t) => {
  const noSsh = ensureOpenSsh();
  if (noSsh) {
    t.skip(noSsh);
    return;
  }
  const fx = await SshdFixture.start([{ name: 'gpu-a', gpus: 2 }]);
  const hosts: Host[] = [localHost()];
  const ssh = new SshHost({
    config: fx.hostConfig('gpu-a'),
    jobsRoot: path.join(root, 'ssh-jobs'),
    controlDir: path.join(fx.root, 'ctl'),
    logger: silentLogger,
    sshConfigFile: fx.sshConfig,
    pollMs: 100,
    lostAfterMs: 60_000,
    backoff: { baseMs: 300, maxMs: 1000 },
    connectTimeoutSec: 5,
  });
  hosts.push(ssh);
  // Slurm only where the fixture can run (Linux with slurm-wlm); the SSH half stands alone otherwise.
  const noSlurm = ensureSlurm();
  let cluster: SlurmCluster | undefined;
  if (!noSlurm) {
    cluster = await SlurmCluster.start({ gpus: 2 });
    hosts.push(
      new SlurmHost({
        config: parseSlurmHostConfig({ name: 'slurm-local', type: 'slurm', target: 'local', partition: 'gpu' }),
        jobsRoot: path.join(root, 'slurm-jobs'),
        logger: silentLogger,
        localEnv: cluster.env,
        controlDir: path.join(fx.root, 'ctl'),
        sshConfigFile: fx.sshConfig,
        pollMs: 200,
        lostAfterMs: 60_000,
        backoff: { baseMs: 300, maxMs: 1000 },
      }),
    );
  }
  const manager = managerOn(hosts);
  try {
    await manager.refreshHosts(true);
    const local = await manager.queue(spec(await script('first.sh', { sleep: 1 })));
    const remote = await manager.queue(spec(await script('ssh-second.sh', { needs: 'first.sh' }), { mode: 'after-ok', jobs: [local.id] }));
    const jobs = [local, remote];
    if (cluster) {
      jobs.push(await manager.queue(spec(await script('slurm-third.sh', { needs: 'ssh-second.sh' }), { mode: 'after-ok', jobs: [remote.id] })));
    }
    await until(manager, 'the local job to start', () => local.state === 'running');
    assert.equal(remote.state, 'queued', 'the SSH host is free, yet the dependent waits');
    await until(manager, 'the cross-host chain to end', ended(...jobs), 90_000);
    assert.deepEqual(
      jobs.map((j) => [j.name, j.host, j.state, j.exitCode]),
      [['first.sh', 'local', 'succeeded', 0], ['ssh-second.sh', 'gpu-a', 'succeeded', 0], ...(cluster ? [['slurm-third.sh', 'slurm-local', 'succeeded', 0]] : [])],
    );
    if (noSlurm) {
      t.diagnostic(`Slurm part skipped: ${noSlurm}`);
    }
  } finally {
    manager.dispose();
    for (const h of hosts) h.dispose();
    await ssh.closeConnection();
    await cluster?.stop();
    await fx.stop();
  }
});
