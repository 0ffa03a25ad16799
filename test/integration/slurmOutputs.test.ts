// Results back from Slurm clusters (issue 16 item 3) against a real one-node Slurm: through an ssh login
// node the job's outputs come back like an SSH host's (rsync, and tar from a login node without rsync);
// with target "local" the job ran in the workspace on the shared file system, so they are already there.
// Run under `flock /tmp/trainq-slurm.lock`: one Slurm per machine at a time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OutputReport, OutputRequest } from '../../src/core/host';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { SlurmHost } from '../../src/hosts/slurm/slurmHost';
import { makeJob as buildJob } from '../support/builders';
import { request } from '../support/launchRequests';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { nextExit } from '../support/waiting';

const skip = ensureSlurm() ?? ensureOpenSsh();
let cluster: SlurmCluster;
let fx: SshdFixture;
let project: string;
let jobsRoot: string;
const hosts: SlurmHost[] = [];
let seq = 0;

before(async () => {
  if (skip) return;
  cluster = await SlurmCluster.start({ gpus: 2 });
  fx = await SshdFixture.start([{ name: 'login' }, { name: 'login-tar', withoutRsync: true }]);
  await cluster.writeClientWrappers(fx.server('login').binDir);
  await cluster.writeClientWrappers(fx.server('login-tar').binDir);
  project = path.join(fx.root, 'local', 'proj');
  jobsRoot = path.join(fx.root, 'local', 'jobs');
  await fs.mkdir(project, { recursive: true });
  await fs.writeFile(
    path.join(project, 'train.sh'),
    `#!/bin/sh\nmkdir -p outputs/nested\nprintf 'ckpt %s\\n' "$TRAINQ_JOB_ID" > outputs/model.ckpt\nprintf 'n\\n' > outputs/nested/log.txt\n`,
  );
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await Promise.all(hosts.map((h) => h.closeConnection()));
  await cluster.stop();
  await fx.stop();
});

function newHost(target: string): SlurmHost {
  const config = parseSlurmHostConfig({ name: `slurm-${target}`, type: 'slurm', target, partition: 'gpu' });
  const host = new SlurmHost({
    config,
    jobsRoot,
    logger: silentLogger,
    localEnv: cluster.env,
    controlDir: path.join(fx.root, 'ctl'),
    sshConfigFile: fx.sshConfig,
    pollMs: 200,
    lostAfterMs: 60_000,
  });
  hosts.push(host);
  return host;
}

async function runJob(host: SlurmHost): Promise<Job> {
  seq += 1;
  const job = buildJob({ id: `sout-${process.pid}-${seq}`, name: 'train.sh', script: path.join(project, 'train.sh'), args: [], cwd: project, gpus: 0, runtimeSec: 600, state: 'running', createdAt: Date.now() });
  const exited = nextExit(host, job.id, 90_000);
  job.handle = await host.launch(request(job, []));
  const report = await exited;
  assert.equal(report.exitCode, 0, JSON.stringify(report));
  return job;
}

function req(job: Job, destDir: string): OutputRequest {
  return {
    job,
    globs: ['outputs/**'],
    destDir,
    maxBytes: 1024 * 1024,
    maxSetting: 'trainq.outputs.maxMiB',
    resolveConflicts: async () => 'skip',
  };
}

for (const [target, method] of [['login', 'rsync'], ['login-tar', 'tar']] as const) {
  test(`a Slurm job's outputs come back through the ssh login node (${method})`, { skip }, async () => {
    const host = newHost(target);
    const job = await runJob(host);
    const dest = await fs.mkdtemp(path.join(fx.root, 'dest-'));
    const report = (await host.fetchOutputs(req(job, dest))) as Extract<OutputReport, { kind: 'copied' }>;
    assert.equal(report.kind, 'copied', JSON.stringify(report));
    assert.equal(report.method, method);
    assert.deepEqual([...report.written].sort(), ['outputs/model.ckpt', 'outputs/nested/log.txt']);
    assert.equal(await fs.readFile(path.join(dest, 'outputs', 'model.ckpt'), 'utf8'), `ckpt ${job.id}\n`);
  });
}

test('with target "local" the job ran in the workspace: its outputs are in place and nothing is copied', { skip }, async () => {
  const host = newHost('local');
  const job = await runJob(host);
  const dest = await fs.mkdtemp(path.join(fx.root, 'dest-'));
  assert.deepEqual(await host.fetchOutputs(req(job, dest)), { kind: 'inPlace', folder: project });
  assert.ok(existsSync(path.join(project, 'outputs', 'model.ckpt')), 'the job wrote them into the workspace itself');
  assert.deepEqual(await fs.readdir(dest), []);
});
