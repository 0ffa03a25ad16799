import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import type { HostStatus } from '../../src/core/host';
import type { SshHostConfig } from '../../src/hosts/hostConfig';
import { HostUnreachableError } from '../../src/core/hostErrors';
import { SshHost, type SshHostOptions } from '../../src/hosts/ssh/sshHost';
import { MetricsFollower } from '../../src/core/metricsFollower';
import { ensureOpenSsh, SshdFixture } from '../support/sshd';
import { makeJob as buildJob } from '../support/builders';
import { pgidOf, request } from '../support/launchRequests';
import { ESCAPING_SCRIPT, escapedChild, isLive, markedProcesses, waitingReasonOn } from '../support/jobProcesses';
import { nextExit, waitFor } from '../support/waiting';

const skip = ensureOpenSsh();
let fx: SshdFixture;
let work: string;
let project: string;
let jobsRoot: string;
const hosts: SshHost[] = [];
const strays: number[] = [];
let seq = 0;

before(async () => {
  if (skip) return;
  // gpu-a: 2 fake GPUs; gpu-b: the fixture's default 4 (one [N/A]); gpu-c: no GPUs tool and no rsync.
  fx = await SshdFixture.start([{ name: 'gpu-a', gpus: 2 }, { name: 'gpu-b' }, { name: 'gpu-c', withoutRsync: true, withoutNvidiaSmi: true }]);
  work = path.join(fx.root, 'local');
  project = path.join(work, 'proj');
  jobsRoot = path.join(work, 'jobs');
  await fs.mkdir(project, { recursive: true });
});

after(async () => {
  if (skip) return;
  for (const host of hosts) host.dispose();
  await Promise.all(hosts.map((h) => h.closeConnection()));
  for (const pid of strays) killGroup(pid);
  await fx.stop();
  // Every job of this file owned every process it started: none may outlive the run.
  const ours = (id: string) => id.startsWith(`ssh-${process.pid}-`);
  await waitFor('the processes of this file\'s jobs to end', async () => (await markedProcesses(ours)).length === 0, 5000);
});

function newHost(name: string, config: Partial<SshHostConfig> = {}, over: Partial<SshHostOptions> = {}): SshHost {
  const host = new SshHost({
    config: fx.hostConfig(name, config),
    jobsRoot,
    controlDir: path.join(fx.root, 'ctl'),
    logger: silentLogger,
    sshConfigFile: fx.sshConfig,
    pollMs: 100,
    lostAfterMs: 60_000,
    backoff: { baseMs: 300, maxMs: 1000 },
    connectTimeoutSec: 5,
    ...over,
  });
  hosts.push(host);
  return host;
}

function makeJob(script: string, args: string[] = [], extra: Partial<Job> = {}): Job {
  seq += 1;
  const id = `ssh-${process.pid}-${seq}`;
  return buildJob({ id, name: path.basename(script), script, args, cwd: project, gpus: 0, runtimeSec: 10, state: 'running', createdAt: Date.now(), ...extra });
}

async function writeFile(rel: string, body: string, root = project): Promise<string> {
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, body);
  return file;
}

/** The synced copy and job folders of a test host live under its private HOME (workdir ~/trainq). */
function remote(host: string, ...parts: string[]): string {
  return path.join(fx.server(host).home, 'trainq', ...parts);
}

const logOf = (host: SshHost, jobId: string) => fs.readFile(host.logPath(jobId), 'utf8').catch(() => '');

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

test('probes three hosts in parallel, each reporting its own GPUs, CPUs and memory', { skip }, async () => {
  const [a, b, c] = await Promise.all(['gpu-a', 'gpu-b', 'gpu-c'].map((n) => newHost(n).probe()));
  for (const status of [a, b, c]) {
    assert.equal(status.state, 'online', `${status.name}: ${status.error}`);
    assert.equal(status.kind, 'ssh');
    assert.equal(status.cpuCount, os.cpus().length);
    assert.ok(status.memTotalBytes! > 0 && status.memUsedBytes! > 0 && status.memUsedBytes! <= status.memTotalBytes!);
    assert.ok(status.cpuLoadPct! >= 0 && status.cpuLoadPct! <= 100);
  }
  assert.deepEqual(a.gpus.map((g) => [g.index, g.uuid]), [
    [0, 'GPU-fa4e0000-0000-4000-8000-000000000000'],
    [1, 'GPU-fa4e0000-0001-4000-8000-000000000001'],
  ]);
  assert.equal(b.gpus.length, 4);
  assert.equal(b.gpus[2].utilizationPct, undefined, '[N/A] is no number');
  assert.equal(b.gpus[2].memoryUsedMiB, 1024);
  assert.deepEqual(c.gpus, []);
  assert.equal(c.gpuNote, 'nvidia-smi not found');
});

test('a target written as user@host:port works like an alias', { skip }, async () => {
  const target = `${os.userInfo().username}@127.0.0.1:${fx.server('gpu-a').port}`;
  const status = await newHost('gpu-a-direct', { target }).probe();
  assert.equal(status.state, 'online', status.error);
  assert.equal(status.gpus.length, 2);
});

test('GPU processes are told apart: foreign, another TrainQ\'s job, and what a job that ended here left', { skip }, async () => {
  const foreign = spawn('sleep', ['60'], { stdio: 'ignore' });
  // The marker alone no longer makes a process TrainQ's own: this host holds no job 'someone'.
  const elsewhere = spawn('sleep', ['60'], { stdio: 'ignore', env: { ...process.env, TRAINQ_JOB_ID: 'someone' } });
  const endedId = `ssh-${process.pid}-ended`;
  const endedDir = remote('gpu-a', '.trainq', 'jobs', endedId);
  await fs.mkdir(endedDir, { recursive: true });
  await fs.writeFile(path.join(endedDir, 'exit'), '0\n');
  const leftover = spawn('sleep', ['60'], { stdio: 'ignore', env: { ...process.env, TRAINQ_JOB_ID: endedId } });
  try {
    await fs.writeFile(
      fx.server('gpu-a').computeAppsFile,
      [[0, leftover], [1, foreign], [1, elsewhere]].map(([i, p]) => `GPU-fa4e0000-000${i}-4000-8000-00000000000${i}, ${(p as { pid: number }).pid}\n`).join(''),
    );
    const status = await newHost('gpu-a').probe();
    assert.deepEqual(status.gpus.map((g) => [g.foreignProcesses, g.leftoverJobs]), [[0, [endedId]], [2, undefined]]);
  } finally {
    for (const p of [foreign, elsewhere, leftover]) p.kill('SIGKILL');
    await fs.writeFile(fx.server('gpu-a').computeAppsFile, '');
    await fs.rm(endedDir, { recursive: true, force: true });
  }
});

async function writeProjectTree(): Promise<void> {
  await writeFile('train.py', 'print("hi")\n');
  await writeFile('data/set.txt', 'data v1\n');
  await writeFile('dir with space/it\'s.txt', 'odd name\n');
  await writeFile('.git/HEAD', 'ref: refs/heads/main\n');
  await writeFile('node_modules/m.js', '//\n');
  await writeFile('.venv/bin/python', '#!\n');
  await writeFile('model.ckpt', 'big\n');
}

async function assertSynced(host: string): Promise<void> {
  assert.equal(await fs.readFile(remote(host, 'proj', 'data', 'set.txt'), 'utf8'), 'data v1\n');
  assert.equal(await fs.readFile(remote(host, 'proj', 'dir with space', "it's.txt"), 'utf8'), 'odd name\n');
  assert.ok(existsSync(remote(host, 'proj', 'train.py')));
  for (const skipped of ['.git', 'node_modules', '.venv', 'model.ckpt']) {
    assert.equal(existsSync(remote(host, 'proj', skipped)), false, `${skipped} must not be copied`);
  }
}

test('sync copies the project with rsync, skips excluded folders, and keeps files the jobs wrote', { skip }, async () => {
  await writeProjectTree();
  const host = newHost('gpu-a', {}, { syncExcludes: ['*.ckpt'] });
  const result = await host.sync(project);
  assert.deepEqual(result, { remoteDir: remote('gpu-a', 'proj'), method: 'rsync' });
  await assertSynced('gpu-a');
  await fs.writeFile(remote('gpu-a', 'proj', 'checkpoint.pt'), 'weights');
  await writeFile('data/set.txt', 'data v2\n');
  await host.sync(project);
  assert.equal(await fs.readFile(remote('gpu-a', 'proj', 'data', 'set.txt'), 'utf8'), 'data v2\n');
  assert.equal(await fs.readFile(remote('gpu-a', 'proj', 'checkpoint.pt'), 'utf8'), 'weights');
  await writeFile('data/set.txt', 'data v1\n');
});

test('sync falls back to tar when the host has no rsync', { skip }, async () => {
  await writeProjectTree();
  const result = await newHost('gpu-c', {}, { syncExcludes: ['*.ckpt'] }).sync(project);
  assert.deepEqual(result, { remoteDir: remote('gpu-c', 'proj'), method: 'tar' });
  await assertSynced('gpu-c');
});

test('sync falls back to tar when rsync is missing locally', { skip }, async () => {
  await writeProjectTree();
  const host = newHost('gpu-b', {}, { syncExcludes: ['*.ckpt'], rsyncCommand: path.join(work, 'no-such-rsync') });
  assert.equal((await host.sync(project)).method, 'tar');
  await assertSynced('gpu-b');
});

test('a job sees its GPUs, id, host env and literal arguments; its exit code and log come back', { skip }, async () => {
  const host = newHost('gpu-a', { env: { TRAINQ_TEST_VALUE: 'x y $HOME `id`' } });
  const pwned = path.join(os.tmpdir(), `trainq-pwned-${process.pid}-${Date.now()}`);
  const script = await writeFile(
    'argv.py',
    'import json, os, sys\nprint(json.dumps({"argv": sys.argv[1:], "cvd": os.environ.get("CUDA_VISIBLE_DEVICES"),'
      + ' "id": os.environ.get("TRAINQ_JOB_ID"), "env": os.environ.get("TRAINQ_TEST_VALUE"), "cwd": os.getcwd(), "exe": sys.executable}))\nsys.exit(3)\n',
  );
  const args = [`'; touch ${pwned}; '`, `"; touch ${pwned}; "`, `$(touch ${pwned})`, `\`touch ${pwned}\``, '; touch x', 'line one\nline two', "it's \"quoted\"", '  spaced  ', '', '*', '$HOME'];
  const job = makeJob(script, args);
  const exited = nextExit(host, job.id);
  // No local interpreter travels: the host runs .py jobs with its own python setting.
  const pgid = pgidOf(await host.launch(request(job, [1])));
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 3 });
  const printed = JSON.parse(await logOf(host, job.id));
  assert.deepEqual(printed.argv, args);
  assert.equal(printed.cvd, '1');
  assert.equal(printed.id, job.id);
  assert.equal(printed.env, 'x y $HOME `id`');
  assert.equal(printed.cwd, remote('gpu-a', 'proj'));
  assert.equal(existsSync(pwned), false, 'no argument may run as shell code');
  const jobDir = remote('gpu-a', '.trainq', 'jobs', job.id);
  assert.equal((await fs.readFile(path.join(jobDir, 'exit'), 'utf8')).trim(), '3');
  assert.equal(Number(await fs.readFile(path.join(jobDir, 'pgid'), 'utf8')), pgid, 'the reported group is the wrapper\'s');
  assert.equal(existsSync(path.join(jobDir, 'exit.tmp')), false);
  assert.equal(await fs.readFile(path.join(jobDir, 'output.log'), 'utf8'), await logOf(host, job.id));
});

test('a script path with spaces runs, and its log streams in while it runs', { skip }, async () => {
  const host = newHost('gpu-b');
  const script = await writeFile('my scripts/train run.sh', 'echo "started in $(pwd)"\nwhile [ ! -e go ]; do sleep 0.05; done\necho finished\n');
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [0, 2])));
  strays.push(pgid);
  await waitFor('the first line in the local copy', async () => (await logOf(host, job.id)).includes('started'));
  await fs.writeFile(remote('gpu-b', 'proj', 'go'), '');
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  assert.equal(await logOf(host, job.id), `started in ${remote('gpu-b', 'proj')}\nfinished\n`);
  await fs.rm(remote('gpu-b', 'proj', 'go'));
});

test('a remote job\'s metrics reach TrainQ within one host poll of being printed', { skip }, async () => {
  const host = newHost('gpu-b');
  const script = await writeFile('metrics.sh', 'echo "trainq:metric val_acc=0.5 step=1"\nwhile [ ! -e go-metrics ]; do sleep 0.05; done\necho "trainq:metric val_acc=0.75 step=2"\n');
  const job = makeJob(script, [], { host: 'gpu-b', startedAt: Date.now() });
  const exited = nextExit(host, job.id);
  strays.push(pgidOf(await host.launch(request(job, [0]))));
  // What the extension does: the follower reads the host's local log copy (this job writes no metrics file).
  const follower = new MetricsFollower({ jobs: () => [job], host: () => host, save: async () => undefined });
  const printedAt = Date.now();
  await waitFor('the first report', async () => (await follower.poll(), job.metrics?.latest.val_acc === 0.5));
  const firstMs = Date.now() - printedAt;
  await fs.writeFile(remote('gpu-b', 'proj', 'go-metrics'), '');
  await exited;
  job.state = 'succeeded';
  await follower.poll();
  assert.deepEqual(job.metrics!.series.val_acc.map((p) => [p.step, p.value]), [[1, 0.5], [2, 0.75]]);
  assert.equal(existsSync(host.metricsPath(job.id)), false, 'no metrics file on the host: no copy');
  // The host polls every 100 ms here; one poll plus the start of the job and a follower read.
  console.log(`first report read ${firstMs} ms after the launch returned`);
  assert.ok(firstMs < 5000, `${firstMs} ms`);
  follower.dispose();
  await fs.rm(remote('gpu-b', 'proj', 'go-metrics'));
});

test('a remote job\'s TRAINQ_METRICS_FILE lines come back while it runs, and its last line when it ends', { skip }, async () => {
  const host = newHost('gpu-b');
  const script = await writeFile(
    'metrics-file.sh',
    'printf \'{"val_acc": 0.5, "step": 1}\\n\' >> "$TRAINQ_METRICS_FILE"\nwhile [ ! -e go-metrics-file ]; do sleep 0.05; done\n'
      + 'printf \'{"val_acc": 0.75, "step": 2}\\n\' >> "$TRAINQ_METRICS_FILE"\n',
  );
  const job = makeJob(script, [], { host: 'gpu-b', startedAt: Date.now() });
  const exited = nextExit(host, job.id);
  strays.push(pgidOf(await host.launch(request(job, [0]))));
  const follower = new MetricsFollower({ jobs: () => [job], host: () => host, save: async () => undefined });
  await waitFor('the first value from the metrics file', async () => (await follower.poll(), job.metrics?.latest.val_acc === 0.5));
  assert.equal(existsSync(remote('gpu-b', '.trainq', 'jobs', job.id, 'exit')), false, 'read while the job still runs');
  await fs.writeFile(remote('gpu-b', 'proj', 'go-metrics-file'), '');
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  // The end is reported only after the rest of the file was copied: one read then sees the last value.
  job.state = 'succeeded';
  await follower.poll();
  assert.deepEqual(job.metrics!.series.val_acc.map((p) => [p.step, p.value]), [[1, 0.5], [2, 0.75]]);
  const remoteFile = await fs.readFile(remote('gpu-b', '.trainq', 'jobs', job.id, 'metrics.jsonl'));
  assert.deepEqual(await fs.readFile(host.metricsPath(job.id)), remoteFile, 'the local copy is the remote file');
  follower.dispose();
  await fs.rm(remote('gpu-b', 'proj', 'go-metrics-file'));
});

test('cancel stops a job with SIGTERM, and SIGKILLs one that ignores it after the grace period', { skip }, async () => {
  const host = newHost('gpu-a');
  const polite = makeJob(await writeFile('sleep.sh', 'echo started\nsleep 30\necho not reached\n'));
  const exited = nextExit(host, polite.id);
  const pgid = pgidOf(await host.launch(request(polite, [])));
  strays.push(pgid);
  await waitFor('the job to start', async () => (await logOf(host, polite.id)).includes('started'));
  await host.cancel({ ...polite, handle: { kind: 'process', pgid } }, 5);
  // The wrapper survives the group's SIGTERM and records 128 + 15.
  assert.deepEqual(await exited, { jobId: polite.id, exitCode: 143 });
  assert.equal((await logOf(host, polite.id)).includes('not reached'), false);

  const stubborn = makeJob(await writeFile('stubborn.sh', "trap 'echo got TERM' TERM\necho started\nwhile :; do sleep 0.1; done\n"));
  const killed = nextExit(host, stubborn.id);
  const second = pgidOf(await host.launch(request(stubborn, [])));
  strays.push(second);
  await waitFor('the job to start', async () => (await logOf(host, stubborn.id)).includes('started'));
  await host.cancel({ ...stubborn, handle: { kind: 'process', pgid: second } }, 1);
  const report = await killed;
  assert.equal(report.exitCode, undefined, 'SIGKILL takes the wrapper too, so no code is recorded');
  assert.ok((await logOf(host, stubborn.id)).includes('got TERM'), 'SIGTERM came first');
  await waitFor('the process group to vanish', () => !groupAlive(second), 5000);
});

test('forgetting removed jobs deletes their folders on the host, but not one whose process still runs', { skip }, async () => {
  const host = newHost('gpu-b');
  const done = makeJob(await writeFile('quick.sh', 'echo done\n'));
  const exited = nextExit(host, done.id);
  await host.launch(request(done, []));
  await exited;
  const busy = makeJob(await writeFile('busy.sh', 'echo started\nsleep 30\n'));
  const pgid = pgidOf(await host.launch(request(busy, [])));
  strays.push(pgid);
  await waitFor('the busy job to start', async () => (await logOf(host, busy.id)).includes('started'));
  const elsewhere = { ...done, id: `${done.id}-other`, host: 'gpu-a' };
  assert.ok(existsSync(remote('gpu-b', '.trainq', 'jobs', done.id)));

  // The busy job passes as "lost" (what TrainQ thinks after losing track of a job that still runs).
  const outcome = await host.forget([{ ...done, state: 'succeeded', host: 'gpu-b' }, { ...busy, state: 'lost', host: 'gpu-b', handle: { kind: 'process', pgid } }, elsewhere]);
  assert.deepEqual(outcome, { removed: 1, kept: 1 });
  assert.equal(existsSync(remote('gpu-b', '.trainq', 'jobs', done.id)), false);
  assert.ok(existsSync(remote('gpu-b', '.trainq', 'jobs', busy.id, 'output.log')), 'a running job keeps its folder');
  assert.ok(existsSync(remote('gpu-b', 'proj', 'quick.sh')), 'the synced project stays');
  // Forgetting again is harmless: the folder is gone, nothing is counted.
  assert.deepEqual(await host.forget([{ ...done, state: 'succeeded', host: 'gpu-b' }]), { removed: 0, kept: 0 });
  killGroup(pgid);
});

test('after the host object is recreated, jobs are reconciled: running, exited, lost', { skip }, async () => {
  const first = newHost('gpu-a');
  const slow = makeJob(await writeFile('slow.sh', 'echo started\nwhile [ ! -e go-slow ]; do sleep 0.05; done\nexit 7\n'));
  const quick = makeJob(await writeFile('quick.sh', 'echo quick\nexit 5\n'));
  let firstFired = false;
  first.onDidExit(() => (firstFired = true));
  const slowStart = pgidOf(await first.launch(request(slow, [0])));
  strays.push(slowStart);
  first.dispose();
  const quickStart = pgidOf(await newHost('gpu-a').launch(request(quick, [])));
  hosts[hosts.length - 1].dispose();
  await waitFor('the quick job to end', () => existsSync(remote('gpu-a', '.trainq', 'jobs', quick.id, 'exit')));

  const second = newHost('gpu-a');
  const exited = nextExit(second, slow.id);
  assert.deepEqual(await second.reattach({ ...slow, handle: { kind: 'process', pgid: slowStart } }), { kind: 'running' });
  assert.deepEqual(await second.reattach({ ...quick, handle: { kind: 'process', pgid: quickStart } }), { kind: 'exited', exitCode: 5 });
  assert.equal(await logOf(second, quick.id), 'quick\n');
  await fs.writeFile(remote('gpu-a', 'proj', 'go-slow'), '');
  assert.deepEqual(await exited, { jobId: slow.id, exitCode: 7 });
  assert.equal(firstFired, false, 'a disposed host reports nothing');

  // A folder with a pgid whose process is gone and no exit file: killed, or the host rebooted.
  const dead = makeJob(slow.script);
  const deadDir = remote('gpu-a', '.trainq', 'jobs', dead.id);
  await fs.mkdir(deadDir, { recursive: true });
  await fs.writeFile(path.join(deadDir, 'pgid'), `${quickStart}\n`);
  const lost = await second.reattach(dead);
  assert.equal(lost.kind, 'lost');
  assert.match(lost.kind === 'lost' ? lost.reason : '', /ended without recording an exit code/);
  const gone = await second.reattach(makeJob(slow.script));
  assert.equal(gone.kind, 'lost');
  assert.match(gone.kind === 'lost' ? gone.reason : '', /is gone/);
});

test('a start cut off by a timeout is followed until it shows up, and never runs twice', { skip }, async () => {
  // A slow rm on the host (the start script's last step before starting the job) holds the start
  // command past the call's timeout; the job then starts after the connection gave up on it.
  const slowRm = path.join(fx.server('gpu-a').binDir, 'rm');
  await fs.writeFile(slowRm, '#!/bin/sh\nsleep 3\nexec /usr/bin/rm "$@"\n', { mode: 0o755 });
  const runs = path.join(work, `runs-${process.pid}-${seq}`);
  const job = makeJob(await writeFile('once.sh', `echo run >> '${runs}'\n`));
  try {
    const host = newHost('gpu-a', {}, { callTimeoutMs: 1500 });
    const exited = nextExit(host, job.id);
    const err = await host.launch(request(job, [])).catch((e: unknown) => e);
    assert.ok(err instanceof HostUnreachableError, String(err));
    assert.equal(err.problem, 'timeout');
    assert.equal(err.mayHaveStarted, true, 'the manager must not queue it again');
    assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  } finally {
    await fs.rm(slowRm, { force: true });
  }
  // Dispatched again anyway (say, by a manager that re-queued it): the host finds it started.
  const recorded = Number(await fs.readFile(remote('gpu-a', '.trainq', 'jobs', job.id, 'pgid'), 'utf8'));
  assert.deepEqual(await newHost('gpu-a').launch(request(job, [])), { kind: 'process', pgid: recorded });
  assert.equal(await fs.readFile(runs, 'utf8'), 'run\n');
});

test('a host that is down at dispatch refuses with HostUnreachableError and backs off; it comes back by itself', { skip }, async () => {
  const server = fx.server('gpu-b');
  // Backoff long enough that no automatic retry falls between the assertions.
  const host = newHost('gpu-b', {}, { backoff: { baseMs: 2000, maxMs: 2000 } });
  const job = makeJob(await writeFile('never.sh', 'echo never\n'));
  await server.stop();
  try {
    const err = await host.launch(request(job, [])).catch((e: unknown) => e);
    assert.ok(err instanceof HostUnreachableError, String(err));
    assert.equal(err.problem, 'unreachable');
    assert.equal(err.mayHaveStarted, false);
    assert.match(err.message, /Connection refused/);
    const status = await host.probe();
    assert.equal(status.state, 'offline');
    assert.equal(status.problem, 'unreachable');
    assert.ok(status.retryAt! > status.probedAt, 'the next attempt is scheduled');
    // During the backoff nothing is tried: a second refusal carries the same retry time.
    const again = await host.launch(request(job, [])).catch((e: unknown) => e);
    assert.ok(again instanceof HostUnreachableError);
    assert.equal(again.retryAt, status.retryAt);
    assert.equal(existsSync(remote('gpu-b', '.trainq', 'jobs', job.id)), false);
  } finally {
    await server.start();
  }
  const back = await new Promise<HostStatus>((resolve) => {
    const sub = host.onDidChangeStatus((s) => {
      if (s.state === 'online') {
        sub.dispose();
        resolve(s);
      }
    });
  });
  assert.equal(back.gpus.length, 4);
  assert.equal(back.retryAt, undefined);
});

test('a host that vanishes mid-job: the job is reported lost after the timeout, with the reason', { skip }, async () => {
  const server = fx.server('gpu-c');
  const host = newHost('gpu-c', {}, { lostAfterMs: 1500 });
  const job = makeJob(await writeFile('long.sh', 'echo started\nsleep 60\n'));
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [])));
  strays.push(pgid);
  await waitFor('the job to start', async () => (await logOf(host, job.id)).includes('started'));
  await server.stop();
  try {
    const report = await exited;
    assert.equal(report.exitCode, undefined);
    assert.match(report.reason ?? '', /gpu-c was unreachable for \d+ s .*Connection refused.*may still run there/);
    assert.equal(groupAlive(pgid), true, 'the job itself was not touched');
  } finally {
    killGroup(pgid);
    await server.start();
  }
});

test('a changed host key is refused: the host is marked with ssh\'s message and gets no jobs', { skip }, async () => {
  const server = fx.server('gpu-b');
  const host = newHost('gpu-b');
  await server.stop();
  await server.newHostKey();
  await server.start();
  try {
    const status = await host.probe({ force: true });
    assert.equal(status.state, 'offline');
    assert.equal(status.problem, 'hostKeyChanged');
    assert.match(status.error ?? '', /^host key changed: .*SHA256:.*Offending ED25519 key in .*known_hosts:\d/);
    const job = makeJob(await writeFile('spoofed.sh', 'echo spoofed\n'));
    const err = await host.launch(request(job, [])).catch((e: unknown) => e);
    assert.ok(err instanceof HostUnreachableError);
    assert.equal(err.problem, 'hostKeyChanged');
    assert.equal(existsSync(remote('gpu-b', '.trainq', 'jobs', job.id)), false);
  } finally {
    await fx.writeKnownHosts();
  }
  assert.equal((await host.probe({ force: true })).state, 'online', 'accepting the new key fixes it');
});

test('a long log is capped locally: its start, a note, and its end', { skip }, async () => {
  const host = newHost('gpu-a', {}, { maxLogBytes: 4096 });
  const job = makeJob(await writeFile('chatty.sh', 'i=1\nwhile [ $i -le 3000 ]; do echo "line $i"; i=$((i + 1)); done\n'));
  const exited = nextExit(host, job.id);
  await host.launch(request(job, []));
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  const copy = await logOf(host, job.id);
  assert.ok(copy.startsWith('line 1\nline 2\n'));
  assert.ok(copy.endsWith('line 2999\nline 3000\n'));
  assert.match(copy, /\[TrainQ: [\d.]+ KiB left out of [\d.]+ KiB; the full log stays at gpu-a:/);
  assert.ok(Buffer.byteLength(copy) < 4096 + 600, `copy is ${Buffer.byteLength(copy)} bytes`);
});

test('invalid job ids and scripts outside the synced folder are refused before anything runs', { skip }, async () => {
  const host = newHost('gpu-a');
  const script = await writeFile('ok.sh', 'exit 0\n');
  await assert.rejects(host.launch(request({ ...makeJob(script), id: '../escape' }, [])), /Invalid job id/);
  assert.throws(() => host.logPath('a/b'), /Invalid job id/);
  const outside = await writeFile('elsewhere.sh', 'exit 0\n', work);
  const job = makeJob(outside);
  await assert.rejects(host.launch(request(job, [])), /outside the synced folder/);
  assert.equal(existsSync(remote('gpu-a', '.trainq', 'jobs', job.id)), false);
});

test('a missing interpreter on the host is a launch error, not a host problem', { skip }, async () => {
  const host = newHost('gpu-a', { python: 'python9' });
  const script = await writeFile('never.py', 'print("never")\n');
  const err = await host.launch(request(makeJob(script), [])).catch((e: unknown) => e);
  assert.ok(err instanceof Error && !(err instanceof HostUnreachableError));
  assert.match(err.message, /interpreter 'python9' was not found on the host/);
  assert.equal((await host.probe()).state, 'online');
});

const FIXTURE_SMI = path.resolve(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');

/**
 * Runs fn with the host's nvidia-smi listing the GPU processes of jobs that carry `tag` (the fixture's
 * TRAINQ_FAKE_GPU_APPS), instead of the test's compute-apps file; jobs get the tag through the host's env.
 */
async function withFakeGpuApps<T>(hostName: string, fn: (tag: string) => Promise<T>): Promise<T> {
  const smi = path.join(fx.server(hostName).binDir, 'nvidia-smi');
  const original = await fs.readFile(smi, 'utf8');
  const tag = `sshhost-test-${process.pid}`;
  await fs.writeFile(smi, `#!/bin/sh\nTRAINQ_FAKE_GPU_APPS='${tag}' exec '${FIXTURE_SMI}' "$@"\n`);
  try {
    return await fn(tag);
  } finally {
    await fs.writeFile(smi, original);
  }
}

test('on an SSH host a child that escaped with setsid and ignores SIGTERM dies when the job ends; meanwhile its GPU is not offered and the reason names the job', { skip }, async () => {
  await withFakeGpuApps('gpu-a', async (tag) => {
    const host = newHost('gpu-a', { env: { TRAINQ_FAKE_GPU_APPS: tag } }, { sweepGraceSec: 4 });
    const script = await writeFile('escape.sh', `${ESCAPING_SCRIPT}exit 0\n`);
    const pidFile = path.join(work, `escape-${process.pid}-${seq + 1}.pid`);
    const job = makeJob(script, [pidFile], { gpus: 1 });
    const exited = nextExit(host, job.id);
    await host.launch(request(job, [1]));
    const child = await escapedChild(pidFile);
    await waitFor('the script to end', () => existsSync(remote('gpu-a', '.trainq', 'jobs', job.id, 'ended')));

    const { reason, roster } = await waitingReasonOn(host, { ...job, host: 'gpu-a', gpuIndices: [1] }, 2);
    assert.equal(await isLive(child), true, 'the child was alive during the probe');
    assert.deepEqual(roster.statusList()[0].gpus.map((g) => [g.foreignProcesses, g.leftoverJobs]), [[0, undefined], [0, [job.id]]]);
    assert.deepEqual(roster.offers()[0].gpuIndices, [0]);
    assert.equal(reason, 'Needs 2 GPUs on one host; the largest host has 1 (gpu-a: GPU 1 still used by a process of job escape.sh after it ended).');

    assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
    assert.equal(await isLive(child), false, 'SIGKILL took the child');
    assert.deepEqual(await markedProcesses(job.id), []);
    await roster.probeAll();
    assert.deepEqual(roster.offers()[0].gpuIndices, [0, 1], 'the GPU is offered again once the child is gone');
  });
});

test('cancel on an SSH host kills a child that escaped the job\'s process group and ignores SIGTERM', { skip }, async () => {
  const host = newHost('gpu-b');
  const script = await writeFile('escape-long.sh', `${ESCAPING_SCRIPT}exec sleep 600\n`);
  const pidFile = path.join(work, `escape-${process.pid}-${seq + 1}.pid`);
  const job = makeJob(script, [pidFile]);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [0])));
  strays.push(pgid);
  const child = await escapedChild(pidFile);
  await host.cancel({ ...job, handle: { kind: 'process', pgid } }, 1);
  await exited;
  assert.equal(await isLive(child), false, 'the escaped child is gone by the time the end is reported');
  // Killed members may linger a moment as zombies until init reaps them.
  await waitFor('the process group to vanish', () => !groupAlive(pgid), 5000);
  assert.deepEqual(await markedProcesses(job.id), []);
});
