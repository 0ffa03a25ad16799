/**
 * A Slurm cluster reached through an ssh login node recovers from a wedged and then killed shared
 * connection (ControlMaster) the way SSH hosts do: the timed-out call takes it offline, the master is
 * reset, a retry is scheduled by itself, and the host comes back online and runs jobs without anyone
 * probing it. (The same session, remote/session.ts, serves both kinds.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { HostStatus } from '../../src/core/host';
import { silentLogger } from '../../src/core/logger';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { SlurmHost } from '../../src/hosts/slurm/slurmHost';
import { makeJob } from '../support/builders';
import { request, slurmIdOf } from '../support/launchRequests';
import { ensureSlurm, SlurmCluster } from '../support/slurm';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { nextExit } from '../support/waiting';

const skip = ensureSlurm() ?? ensureOpenSsh();
let cluster: SlurmCluster;
let fx: SshdFixture;
let project: string;
let host: SlurmHost;

before(async () => {
  if (skip) return;
  cluster = await SlurmCluster.start({ gpus: 2 });
  fx = await SshdFixture.start([{ name: 'login' }]);
  await cluster.writeClientWrappers(fx.server('login').binDir);
  project = path.join(fx.root, 'local', 'proj');
  await fs.mkdir(project, { recursive: true });
});

after(async () => {
  if (skip) return;
  host?.dispose();
  await host?.closeConnection();
  await cluster.stop();
  await fx.stop();
});

/** The pid of the ControlMaster the host's transport shares, from `ssh -O check`. */
async function masterPid(h: SlurmHost): Promise<number> {
  const t = h.transport!;
  const check = spawnSync('ssh', [...(await t.optionArgs()), '-O', 'check', '--', t.sshDestination], { encoding: 'utf8', timeout: 5000 });
  const pid = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
  assert.ok(pid > 1, `no master: ${check.stderr}`);
  return pid;
}

test('a wedged, then killed ControlMaster: offline with "timeout", back online by itself, and jobs run again', { skip }, async () => {
  const config = parseSlurmHostConfig({ name: 'slurm-login', type: 'slurm', target: 'login', partition: 'gpu' });
  host = new SlurmHost({
    config,
    jobsRoot: path.join(fx.root, 'local', 'jobs'),
    logger: silentLogger,
    controlDir: path.join(fx.root, 'ctl'),
    sshConfigFile: fx.sshConfig,
    pollMs: 200,
    lostAfterMs: 60_000,
    callTimeoutMs: 2000,
    backoff: { baseMs: 300, maxMs: 1000 },
  });
  assert.equal((await host.probe()).state, 'online');
  const statuses: HostStatus[] = [];
  host.onDidChangeStatus((s) => statuses.push(s));
  const backOnline = new Promise<HostStatus>((resolve) => host.onDidChangeStatus((s) => s.state === 'online' && resolve(s)));

  const pid = await masterPid(host);
  process.kill(pid, 'SIGSTOP');
  let offline: HostStatus;
  try {
    offline = await host.probe({ force: true });
  } finally {
    // The master stays wedged while the host reacts, then dies: the next connection must be a fresh one.
    process.kill(pid, 'SIGKILL');
    process.kill(pid, 'SIGCONT');
  }
  assert.equal(offline.state, 'offline');
  assert.equal(offline.problem, 'timeout');
  assert.ok(offline.retryAt! > offline.probedAt, 'a retry is scheduled');
  assert.ok(statuses.some((s) => s.state === 'offline' && s.problem === 'timeout'), 'the offline status was announced');

  // Nobody probes from here on: the session's retry brings the host back.
  const back = await Promise.race([backOnline, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('never came back by itself')), 30_000))]);
  assert.equal(back.state, 'online');
  assert.equal(back.slurm?.partition, 'gpu');
  assert.notEqual(await masterPid(host), pid, 'a fresh ControlMaster');

  const script = path.join(project, 'after.py');
  await fs.writeFile(script, 'print("ran after the reset", flush=True)\n');
  const job = makeJob({ id: `recover-${process.pid}`, name: 'after.py', script, args: [], cwd: project, gpus: 0, runtimeSec: 600, state: 'running' });
  const exited = nextExit(host, job.id, 60_000);
  assert.match(slurmIdOf(await host.launch(request(job, []))), /^\d+$/);
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0, reason: undefined });
  assert.match(await fs.readFile(host.logPath(job.id), 'utf8'), /ran after the reset/);
});
