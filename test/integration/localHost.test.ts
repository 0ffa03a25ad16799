import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job } from '../../src/core/job';
import { silentLogger } from '../../src/core/logger';
import { LocalHost, type LocalHostOptions } from '../../src/hosts/local/localHost';
import { WRAPPER_SCRIPT } from '../../src/hosts/local/localProcess';
import { makeJob as buildJob } from '../support/builders';
import { pgidOf, request } from '../support/launchRequests';
import { ESCAPING_SCRIPT, escapedChild, isLive, markedProcesses, waitingReasonOn } from '../support/jobProcesses';
import { nextExit, waitFor } from '../support/waiting';

const FAKE_SMI = path.join(__dirname, '..', 'fixtures', 'bin', 'nvidia-smi');

let root: string;
let jobsRoot: string;
let work: string;
const hosts: LocalHost[] = [];
let seq = 0;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-localhost-'));
  jobsRoot = path.join(root, 'jobs');
  work = path.join(root, 'work dir');
  await fs.mkdir(work, { recursive: true });
});

after(async () => {
  for (const host of hosts) {
    host.dispose();
  }
  await fs.rm(root, { recursive: true, force: true });
  // Every job of this file owned every process it started: none may outlive the run.
  assert.deepEqual(await markedProcesses((id) => id.startsWith(`job-${process.pid}-`)), [], 'processes of this file\'s jobs still run');
});

function newHost(over: Partial<LocalHostOptions> = {}): LocalHost {
  const host = new LocalHost({ jobsRoot, maxJobs: 4, nvidiaSmi: FAKE_SMI, logger: silentLogger, pollMs: 50, sweepGraceSec: 2, ...over });
  hosts.push(host);
  return host;
}

function makeJob(script: string, args: string[] = [], extra: Partial<Job> = {}): Job {
  seq += 1;
  const id = `job-${process.pid}-${seq}`;
  return buildJob({ id, name: path.basename(script), script, args, cwd: work, gpus: 0, runtimeSec: 10, state: 'running', createdAt: Date.now(), ...extra });
}

async function writeScript(name: string, body: string): Promise<string> {
  const file = path.join(work, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, body);
  return file;
}

/** Resolves with the job's exit report; the timer also keeps the event loop alive while waiting. */
async function logOf(host: LocalHost, jobId: string): Promise<string> {
  return fs.readFile(host.logPath(jobId), 'utf8').catch(() => '');
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Pids of the group's processes that are not zombies (Linux only; elsewhere every member counts). */
async function liveMembers(pgid: number): Promise<number[]> {
  if (process.platform !== 'linux') {
    return groupExists(pgid) ? [pgid] : [];
  }
  const live: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    const stat = /^\d+$/.test(entry) ? await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '') : '';
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat !== '' && Number(fields[2]) === pgid && fields[0] !== 'Z') {
      live.push(Number(entry));
    }
  }
  return live;
}

/**
 * No process of the group may still run. Grandchildren orphaned by the kill are reaped by
 * init, not by us, and some container inits reap only every second or two, so the group id
 * itself may linger a little as zombies before vanishing.
 */
async function assertGroupGone(pgid: number): Promise<void> {
  assert.deepEqual(await liveMembers(pgid), []);
  await waitFor(`process group ${pgid} to vanish`, () => !groupExists(pgid), 5000);
}

test('probe reports the fake 4-GPU machine and local resources', async () => {
  const status = await newHost().probe();
  assert.equal(status.name, 'local');
  assert.equal(status.kind, 'local');
  assert.equal(status.state, 'online');
  assert.equal(status.gpus.length, 4);
  assert.equal(status.gpuNote, undefined);
  assert.ok(status.cpuCount !== undefined && status.cpuCount >= 1);
  assert.ok(status.memTotalBytes !== undefined && status.memTotalBytes > 0);
  assert.ok(status.memUsedBytes !== undefined && status.memUsedBytes > 0 && status.memUsedBytes <= status.memTotalBytes);
});

test('a job sees its GPUs, its id and its arguments, and exits 0', async () => {
  const host = newHost();
  const script = await writeScript(
    'env.sh',
    'echo "cvd=[$CUDA_VISIBLE_DEVICES] id=[$TRAINQ_JOB_ID] unbuf=[$PYTHONUNBUFFERED]"\nfor a in "$@"; do echo "arg=[$a]"; done\n',
  );
  const job = makeJob(script, ['--lr', '0.1']);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [1, 3])));
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  assert.equal(
    await logOf(host, job.id),
    `cvd=[1,3] id=[${job.id}] unbuf=[1]\narg=[--lr]\narg=[0.1]\n`,
  );
  const dir = path.join(jobsRoot, job.id);
  assert.equal((await fs.readFile(path.join(dir, 'exit'), 'utf8')).trim(), '0');
  assert.equal(Number((await fs.readFile(path.join(dir, 'pgid'), 'utf8')).trim()), pgid);
  assert.equal(existsSync(path.join(dir, 'exit.tmp')), false);
});

test('a non-zero exit code is captured', async () => {
  const host = newHost();
  const script = await writeScript('fail.sh', 'echo failing\nexit 3\n');
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, []));
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 3 });
  assert.equal(await logOf(host, job.id), 'failing\n');
});

test('shell metacharacters in arguments reach the script literally', async () => {
  const host = newHost();
  const pwned = path.join(os.tmpdir(), `trainq-pwned-${process.pid}-${Date.now()}`);
  const script = await writeScript(
    'argv.py',
    'import json, os, sys\nprint(json.dumps({"argv": sys.argv[1:], "cvd": os.environ.get("CUDA_VISIBLE_DEVICES")}))\n',
  );
  const args = [
    `'; touch ${pwned}; '`,
    `"; touch ${pwned}; "`,
    '$(id)',
    '`id`',
    '$HOME',
    "it's \"quoted\"",
    'line one\nline two',
    '  spaced  out  ',
    '',
    '*',
    '-c',
  ];
  const job = makeJob(script, args);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, []));
  assert.equal((await exited).exitCode, 0);
  const printed = JSON.parse(await logOf(host, job.id)) as { argv: string[]; cvd: string | null };
  assert.deepEqual(printed.argv, args);
  assert.equal(printed.cvd, '', 'a CPU job must see no GPUs, not all of them');
  assert.equal(existsSync(pwned), false);
});

test('a script path with spaces runs', async () => {
  const host = newHost();
  const script = await writeScript('my scripts/train run.sh', 'echo "ran from $(pwd)"\n');
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, [0]));
  assert.equal((await exited).exitCode, 0);
  assert.equal(await logOf(host, job.id), `ran from ${work}\n`);
});

test('cancel stops a sleeping job with SIGTERM well within the grace period', async () => {
  const host = newHost();
  const script = await writeScript('sleep.sh', 'echo started\nsleep 30\necho not reached\n');
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [])));
  await waitFor('the job to start', async () => (await logOf(host, job.id)).includes('started'));
  const started = Date.now();
  await host.cancel({ ...job, handle: { kind: 'process', pgid } }, 5);
  const report = await exited;
  assert.ok(Date.now() - started < 3000, 'SIGTERM alone should stop it, long before the 5 s grace');
  // The wrapper survives the group-wide SIGTERM and records 128 + 15.
  assert.equal(report.exitCode, 143);
  await assertGroupGone(pgid);
  assert.equal((await logOf(host, job.id)).includes('not reached'), false);
});

test('cancel SIGKILLs a job that ignores SIGTERM once the grace period is over', async () => {
  const host = newHost();
  const script = await writeScript(
    'stubborn.sh',
    "trap 'echo got TERM' TERM\necho started\nwhile :; do sleep 0.1; done\n",
  );
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [])));
  await waitFor('the job to start', async () => (await logOf(host, job.id)).includes('started'));
  const started = Date.now();
  await host.cancel({ ...job, handle: { kind: 'process', pgid } }, 1);
  const elapsed = Date.now() - started;
  const report = await exited;
  assert.ok(elapsed >= 900 && elapsed < 4000, `cancel took ${elapsed} ms for a 1 s grace`);
  assert.ok((await logOf(host, job.id)).includes('got TERM'), 'SIGTERM comes first');
  // SIGKILL takes the wrapper too, so no code can be recorded.
  assert.equal(report.exitCode, undefined);
  await assertGroupGone(pgid);
});

test('after a restart a running job is followed again and its exit code observed', async () => {
  const first = newHost();
  const script = await writeScript('slow.sh', 'echo started\nsleep 1\nexit 7\n');
  const job = makeJob(script);
  let firstFired = false;
  first.onDidExit(() => (firstFired = true));
  const pgid = pgidOf(await first.launch(request(job, [2])));
  first.dispose();

  const second = newHost();
  const exited = nextExit(second, job.id);
  assert.deepEqual(await second.reattach({ ...job, handle: { kind: 'process', pgid } }), { kind: 'running' });
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 7 });
  assert.equal(firstFired, false, 'a disposed host reports nothing');
  assert.ok((await logOf(second, job.id)).includes('started'));
});

test('a job that ended while VS Code was closed is reported with its code', async () => {
  const first = newHost();
  const script = await writeScript('quick.sh', 'sleep 0.2\nexit 5\n');
  const job = makeJob(script);
  const pgid = pgidOf(await first.launch(request(job, [])));
  first.dispose();
  const exitFile = path.join(jobsRoot, job.id, 'exit');
  await waitFor('the job to finish', () => existsSync(exitFile));
  await waitFor('the group to end', () => !groupExists(pgid));

  const second = newHost();
  assert.deepEqual(await second.reattach({ ...job, handle: { kind: 'process', pgid } }), { kind: 'exited', exitCode: 5 });
});

test('a job with neither a live process nor an exit code is lost', async () => {
  const dead = spawn('true');
  const deadPid = dead.pid!;
  await new Promise((r) => dead.once('exit', r));
  const job = makeJob(path.join(work, 'gone.py'), [], { handle: { kind: 'process', pgid: deadPid } });
  await fs.mkdir(path.join(jobsRoot, job.id), { recursive: true });
  await fs.writeFile(path.join(jobsRoot, job.id, 'pgid'), `${deadPid}\n`);

  const result = await newHost().reattach(job);
  assert.equal(result.kind, 'lost');
  assert.match(result.kind === 'lost' ? result.reason : '', /ended while VS Code was closed without recording an exit code/);
});

test('a reused pid is neither followed nor signalled', { skip: process.platform !== 'linux' }, async () => {
  // A detached sleep stands in for an unrelated program that got the job's old pid.
  const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  const pid = stranger.pid!;
  try {
    const host = newHost();
    const job = makeJob(path.join(work, 'old.py'), [], { handle: { kind: 'process', pgid: pid } });
    const result = await host.reattach(job);
    assert.equal(result.kind, 'lost');
    await host.cancel(job, 0);
    assert.equal(groupExists(pid), true, 'cancel must not kill a process that is not the job');
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('a missing interpreter is a clear launch error', async () => {
  const host = newHost({ resolvePython: async () => 'python9' });
  const script = await writeScript('never.py', 'print("never")\n');
  const job = makeJob(script);
  await assert.rejects(
    host.launch(request(job, [])),
    /Interpreter 'python9' was not found/,
  );
  assert.equal(existsSync(path.join(jobsRoot, job.id)), false, 'nothing was started');
});

test('the wrapper itself records 127 and says why when the interpreter vanished after the check', async () => {
  const dir = path.join(root, 'bare-wrapper');
  await fs.mkdir(dir, { recursive: true });
  const child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, 'trainq-job', dir, 'python9', 'train.py'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 127);
  assert.equal((await fs.readFile(path.join(dir, 'ended'), 'utf8')).trim(), '127');
  assert.equal((await fs.readFile(path.join(dir, 'exit'), 'utf8')).trim(), '127');
  assert.equal(stderr, 'trainq: interpreter python9 was not found\n');
});

test('job ids that could escape the jobs folder are refused', async () => {
  const host = newHost();
  const script = await writeScript('ok.sh', 'exit 0\n');
  const job = { ...makeJob(script), id: '../escape' };
  await assert.rejects(host.launch(request(job, [])), /Invalid job id/);
  assert.throws(() => host.logPath('a/b'), /Invalid job id/);
  assert.equal(existsSync(path.join(root, 'escape')), false);
});

/** Runs fn with the fake nvidia-smi listing the GPU processes of this file's jobs (see test/fixtures/bin/nvidia-smi). */
async function withFakeGpuApps<T>(fn: () => Promise<T>): Promise<T> {
  process.env.TRAINQ_FAKE_GPU_APPS = `localhost-test-${process.pid}`;
  try {
    return await fn();
  } finally {
    delete process.env.TRAINQ_FAKE_GPU_APPS;
  }
}

test('a child that escaped with setsid and ignores SIGTERM dies when the job ends; while it lives its GPU is not offered and the reason names the job', async () => {
  await withFakeGpuApps(async () => {
    const host = newHost({ sweepGraceSec: 4 });
    const script = await writeScript('escape.sh', `${ESCAPING_SCRIPT}exit 0\n`);
    const pidFile = path.join(root, `escape-${seq + 1}.pid`);
    const job = makeJob(script, [pidFile], { gpus: 1 });
    const exited = nextExit(host, job.id);
    await host.launch(request(job, [0]));
    const child = await escapedChild(pidFile);
    await waitFor('the script to end', () => existsSync(path.join(jobsRoot, job.id, 'ended')));

    // The wrapper sweeps now: SIGTERM is ignored, so the child lives out the 4 s grace period.
    const { reason, roster } = await waitingReasonOn(host, { ...job, host: 'local', gpuIndices: [0] }, 4);
    assert.equal(await isLive(child), true, 'the child was alive during the probe');
    assert.deepEqual(roster.statusList()[0].gpus.map((g) => g.leftoverJobs), [[job.id], undefined, undefined, undefined]);
    assert.deepEqual(roster.offers()[0].gpuIndices, [1, 2, 3]);
    assert.equal(reason, 'Needs 4 GPUs on one host; the largest host has 3 (local: GPU 0 still used by a process of job escape.sh after it ended).');

    assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 }, 'the end comes after the sweep, with the script\'s code');
    assert.equal(await isLive(child), false, 'SIGKILL took the child');
    assert.deepEqual(await markedProcesses(job.id), []);
    await roster.probeAll();
    assert.deepEqual(roster.offers()[0].gpuIndices, [0, 1, 2, 3], 'the GPU is offered again once the child is gone');
    assert.equal(await logOf(host, job.id), 'started\n');
  });
});

test('cancel kills a child that escaped the job\'s process group and ignores SIGTERM', async () => {
  const host = newHost();
  const script = await writeScript('escape-long.sh', `${ESCAPING_SCRIPT}exec sleep 600\n`);
  const pidFile = path.join(root, `escape-${seq + 1}.pid`);
  const job = makeJob(script, [pidFile]);
  const exited = nextExit(host, job.id);
  const pgid = pgidOf(await host.launch(request(job, [1])));
  const child = await escapedChild(pidFile);
  const t0 = Date.now();
  await host.cancel({ ...job, handle: { kind: 'process', pgid } }, 1);
  const took = Date.now() - t0;
  assert.equal(await isLive(child), false, 'the escaped child is gone when cancel returns');
  assert.ok(took >= 900 && took < 8000, `SIGKILL after the 1 s grace (cancel took ${took} ms)`);
  await exited;
  await assertGroupGone(pgid);
  assert.deepEqual(await markedProcesses(job.id), []);
});

test('a job whose wrapper was killed: what it left is swept before the end is reported, and its GPU is held meanwhile', async () => {
  await withFakeGpuApps(async () => {
    const host = newHost({ sweepGraceSec: 4 });
    const script = await writeScript('escape-killed.sh', `${ESCAPING_SCRIPT}exec sleep 600\n`);
    const pidFile = path.join(root, `escape-${seq + 1}.pid`);
    const job = makeJob(script, [pidFile], { gpus: 1 });
    const exited = nextExit(host, job.id);
    const pgid = pgidOf(await host.launch(request(job, [2])));
    const child = await escapedChild(pidFile);
    process.kill(-pgid, 'SIGKILL');
    await waitFor('the group to die', async () => (await liveMembers(pgid)).length === 0);
    const { reason } = await waitingReasonOn(host, { ...job, state: 'lost' }, 4);
    assert.equal(await isLive(child), true, 'the child was alive during the probe');
    assert.match(reason ?? '', /\(local: GPU 2 still used by a process of job escape-killed\.sh after it ended\)/);
    const report = await exited;
    assert.equal(report.exitCode, undefined);
    assert.equal(await isLive(child), false);
    assert.deepEqual(await markedProcesses(job.id), []);
  });
});

test('a job whose folder is removed while it runs is lost with that reason', async () => {
  const host = newHost();
  const go = path.join(root, `go-${seq + 1}`);
  const script = await writeScript('wait-go.sh', 'echo started\nwhile [ ! -e "$1" ]; do sleep 0.05; done\n');
  const job = makeJob(script, [go]);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, []));
  await waitFor('the job to start', async () => (await logOf(host, job.id)).includes('started'));
  await fs.rm(path.join(jobsRoot, job.id), { recursive: true, force: true });
  await fs.writeFile(go, '');
  const report = await exited;
  assert.equal(report.exitCode, undefined);
  assert.match(report.reason ?? '', /^job folder removed \(.*\), so no exit code could be recorded$/);
});

test('a long local log is capped like a remote copy: its start streams in, then a note, then its end', async () => {
  const host = newHost({ maxLogBytes: 4096 });
  const script = await writeScript('chatty.sh', 'echo "line 1"\nwhile [ ! -e "$1" ]; do sleep 0.05; done\ni=2\nwhile [ $i -le 3000 ]; do echo "line $i"; i=$((i + 1)); done\n');
  const go = path.join(root, `go-${seq + 1}`);
  const job = makeJob(script, [go]);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, []));
  await waitFor('the first line while the job runs', async () => (await logOf(host, job.id)) === 'line 1\n');
  await fs.writeFile(go, '');
  assert.deepEqual(await exited, { jobId: job.id, exitCode: 0 });
  const log = await logOf(host, job.id);
  assert.ok(log.startsWith('line 1\nline 2\n'), log.slice(0, 40));
  assert.ok(log.endsWith('line 2999\nline 3000\n'), log.slice(-40));
  assert.match(log, /\[TrainQ: the log passed 2\.0 KiB; its end is copied here when the job ends\.\]/);
  assert.match(log, /\[TrainQ: what came between was left out; the last 2\.0 KiB follow\.\]/);
  assert.ok(Buffer.byteLength(log) < 4096 + 300, `the log is ${Buffer.byteLength(log)} bytes`);
  const left = await fs.readdir(path.join(jobsRoot, job.id));
  assert.deepEqual(left.filter((f) => f.startsWith('output.') && f !== 'output.log'), [], 'no pipe or tail file is left');
});

test('a .py job runs with the interpreter the resolver gives for its script; its env reaches it literally', async () => {
  const asked: string[] = [];
  const host = newHost({ resolvePython: async (script) => (asked.push(script), 'python3') });
  const script = await writeScript('envjob.py', 'import os\nprint(os.environ["TRAINQ_ARG"], os.environ["EMPTY"] == "", os.environ["CUDA_VISIBLE_DEVICES"])\n');
  const job = makeJob(script);
  const exited = nextExit(host, job.id);
  await host.launch(request(job, [2], { env: { TRAINQ_ARG: '$HOME `id` $(id) ;x', EMPTY: '' } }));
  assert.equal((await exited).exitCode, 0);
  assert.deepEqual(asked, [script]);
  assert.equal(await logOf(host, job.id), '$HOME `id` $(id) ;x True 2\n');
});

test('a job env that would override what TrainQ sets, or an unknown script type, starts nothing', async () => {
  const host = newHost();
  const script = await writeScript('noenv.sh', 'echo never\n');
  const job = makeJob(script);
  await assert.rejects(host.launch(request(job, [], { env: { CUDA_VISIBLE_DEVICES: '0,1,2,3' } })), /CUDA_VISIBLE_DEVICES' is set by TrainQ/);
  await assert.rejects(host.launch(request(job, [], { env: { 'A B': 'x' } })), /not a valid variable name/);
  const rb = makeJob(await writeScript('train.rb', 'puts 1\n'));
  await assert.rejects(host.launch(request(rb, [])), /TrainQ runs \.py and \.sh scripts; train\.rb is neither/);
  await assert.rejects(host.launch(request(job, [], { args: ['a\0b'] })), /Argument 1 .* contains a NUL/);
  assert.equal(existsSync(path.join(jobsRoot, job.id)), false, 'nothing was started');
  assert.equal(existsSync(path.join(jobsRoot, rb.id)), false, 'nothing was started');
});

test('a Slurm handle is refused by reattach and cancel with a clear message', async () => {
  const host = newHost();
  const job = makeJob(path.join(work, 'elsewhere.py'), [], { handle: { kind: 'slurm', jobId: '41' } });
  await assert.rejects(host.reattach(job), /was submitted to Slurm \(job 41\); local runs jobs as processes/);
  await assert.rejects(host.cancel(job, 1), /was submitted to Slurm \(job 41\)/);
});
