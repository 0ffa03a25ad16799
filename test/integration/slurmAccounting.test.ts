/**
 * The Slurm host against a cluster with accounting (MariaDB + slurmdbd): once slurmctld has purged
 * an ended job (MinJobAge=2 here) squeue no longer knows it, and each test also deletes the job's
 * exit file before TrainQ polls. Only sacct can then tell how the job ended, so a correct report
 * proves that the poll asked sacct and used its answer. The hosts never poll on their own (pollMs is
 * an hour): the tests poll when the job is gone from squeue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Job } from '../../src/core/job';
import type { Logger } from '../../src/core/logger';
import type { ExitReport } from '../../src/core/host';
import { parseSlurmHostConfig } from '../../src/hosts/hostConfig';
import { SlurmHost } from '../../src/hosts/slurm/slurmHost';
import { makeJob as buildJob } from '../support/builders';
import { request, slurmIdOf } from '../support/launchRequests';
import { ensureSlurmAccounting, SlurmCluster } from '../support/slurm';
import { nextExit, waitFor } from '../support/waiting';

const skip = ensureSlurmAccounting();
let cluster: SlurmCluster;
let root: string;
const hosts: SlurmHost[] = [];
const logged: string[] = [];
let seq = 0;

const logger: Logger = {
  trace() {},
  debug() {},
  info: (m) => logged.push(m),
  warn: (m) => logged.push(m),
  error: (m) => logged.push(String(m)),
};

before(async () => {
  if (skip) return;
  cluster = await SlurmCluster.start({ gpus: 2, accounting: true, minJobAge: 2 });
  root = path.join(cluster.root, 'trainq');
  await fs.mkdir(path.join(root, 'proj'), { recursive: true });
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await cluster.stop();
});

function newHost(entry: Record<string, unknown> = {}): SlurmHost {
  const config = parseSlurmHostConfig({ name: 'slurm-acct', type: 'slurm', target: 'local', partition: 'cpu', ...entry });
  const host = new SlurmHost({ config, jobsRoot: path.join(root, 'jobs'), logger, localEnv: cluster.env, pollMs: 3_600_000 });
  hosts.push(host);
  return host;
}

async function makeJob(name: string, body: string, args: string[] = []): Promise<Job> {
  const script = path.join(root, 'proj', name);
  await fs.writeFile(script, body);
  seq += 1;
  const id = `acct-${process.pid}-${seq}`;
  return buildJob({ id, name, script, args, cwd: path.dirname(script), gpus: 0, runtimeSec: 60, state: 'running' });
}

async function launch(host: SlurmHost, job: Job): Promise<string> {
  const result = await host.launch(request(job, []));
  job.handle = result;
  return slurmIdOf(result);
}

const slurmJobIdOf = (job: Job): string => (job.handle?.kind === 'slurm' ? job.handle.jobId : assert.fail(`no Slurm id for ${job.id}`));

/** True once slurmctld has dropped the job: squeue answers "Invalid job id" for it. */
function purged(slurmId: string): boolean {
  try {
    return cluster.run('squeue', ['--noheader', '--states=all', `--jobs=${slurmId}`, '--format=%i']).trim() === '';
  } catch (e) {
    return /Invalid job id/i.test(String((e as { stderr?: string }).stderr));
  }
}

/**
 * Waits until squeue has forgotten the job, deletes its exit file, then polls until the host reports
 * the end (sacct may lag a moment behind slurmctld; while it says RUNNING the job stays followed).
 */
async function endViaSacct(host: SlurmHost, job: Job, timeoutMs = 60_000): Promise<ExitReport> {
  await waitFor(`Slurm job ${slurmJobIdOf(job)} to leave squeue`, () => purged(slurmJobIdOf(job)), timeoutMs);
  await fs.rm(path.join(root, 'jobs', job.id, 'exit'), { force: true });
  let report: ExitReport | undefined;
  const exited = nextExit(host, job.id, timeoutMs).then((r) => (report = r));
  exited.catch(() => undefined);
  await waitFor(
    `the end of ${job.id}`,
    async () => {
      await host.pollNow();
      return report !== undefined;
    },
    timeoutMs,
  );
  return report!;
}

// Slurm checks time limits about every 30 s and counts them in minutes: this job takes 60–100 s,
// so it starts first and is checked last, while the other tests run.
let timedOut: Promise<ExitReport> | undefined;
let timedOutId = '';

test('a job over its time limit (started now, checked last)', { skip }, async () => {
  const host = newHost({ timeLimit: '1' });
  const job = await makeJob('sleeper.py', 'import sys, time\ntime.sleep(float(sys.argv[1]))\n', ['600']);
  timedOutId = await launch(host, job);
  timedOut = endViaSacct(host, job, 180_000);
  timedOut.catch(() => undefined);
});

test('a job that exits 3 is reported with exit code 3 from sacct, and reattached so after a restart', { skip }, async () => {
  const host = newHost();
  const job = await makeJob('three.py', 'import sys\nprint("bye", flush=True)\nsys.exit(3)\n');
  const slurmId = await launch(host, job);
  assert.deepEqual(await endViaSacct(host, job), { jobId: job.id, exitCode: 3, reason: undefined });
  const sacct = cluster.run('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${slurmId}`, '--format=State,ExitCode']);
  assert.match(sacct, /^FAILED\|3:0$/m);
  // A new instance that finds the job in its store asks Slurm once: only sacct knows it now.
  assert.deepEqual(await newHost().reattach(job), { kind: 'exited', exitCode: 3 });
});

test('jobs cancelled in Slurm (pending, and running) end cancelled, from sacct', { skip }, async () => {
  const host = newHost();
  const pending = await makeJob('later.py', 'print("never runs")\n');
  const running = await makeJob('running.py', 'import time\nprint("started", flush=True)\ntime.sleep(600)\n');
  // Not eligible for an hour: it stays pending (TrainQ does not let --hold through).
  const pendingHost = newHost({ extraSbatchArgs: ['--begin=now+3600'] });
  const pendingId = await launch(pendingHost, pending);
  const runningId = await launch(host, running);
  const stateOf = (id: string) => cluster.tryRun('squeue', ['--noheader', `--jobs=${id}`, '--format=%T']).trim();
  await waitFor('the job to run', () => stateOf(runningId) === 'RUNNING');
  // Cancelled by someone else (an admin, or scancel by hand): TrainQ learns it from Slurm.
  cluster.run('scancel', [pendingId, runningId]);
  const [a, b] = await Promise.all([endViaSacct(pendingHost, pending), endViaSacct(host, running)]);
  assert.deepEqual(a, { jobId: pending.id, exitCode: undefined, reason: `Slurm job ${pendingId} was cancelled in Slurm.` });
  assert.deepEqual(b, { jobId: running.id, exitCode: undefined, reason: `Slurm job ${runningId} was cancelled in Slurm.` });
});

test('the time-limited job failed with "Slurm time limit" from sacct', { skip }, async () => {
  const report = await timedOut!;
  assert.equal(report.reason, 'Slurm time limit');
  assert.ok(report.exitCode !== undefined && report.exitCode !== 0, `exit code ${report.exitCode}`);
  assert.match(cluster.run('sacct', ['--noheader', '--parsable2', '--allocations', `--jobs=${timedOutId}`, '--format=State']), /^TIMEOUT$/m);
});

test('the polls used sacct: accounting was never reported disabled, and no poll failed', { skip }, () => {
  assert.deepEqual(
    logged.filter((m) => /accounting is disabled|poll failed/i.test(m)),
    [],
  );
});
