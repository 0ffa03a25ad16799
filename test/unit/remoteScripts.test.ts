import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePoll } from '../../src/hosts/remote/pollFrames';
import { CANCEL_SCRIPT, parseEnsure, parseLaunch, parseProbe, POLL_SCRIPT } from '../../src/hosts/remote/remoteScripts';

let dir: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-remotescripts-'));
});

after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Runs a remote script the way ssh does on the host: `sh -s -- args` with the script on stdin. */
function runLocally(script: string, args: string[]): Buffer {
  return execFileSync('sh', ['-s', '--', ...args], { input: script });
}

test('the probe parser skips login-shell noise and reads every section', () => {
  const out = [
    'Welcome to gpu-box!',
    'TRAINQ-PROBE',
    '@home /home/me',
    '@cpus 64',
    '@load 12.50',
    '@mem 263854320 200000000',
    '@gpus 0',
    '0, GPU-aaa, NVIDIA H100 80GB HBM3, 97, 70000, 81559',
    '1, GPU-bbb, NVIDIA H100 80GB HBM3, [N/A], [N/A], 81559',
    '@apps',
    'GPU-aaa 4242 run job-1',
    'GPU-aaa 4243 ended job-7',
    'GPU-bbb 999 none -',
    'GPU-bbb 1000 other -',
    '@end',
    '',
  ].join('\n');
  const facts = parseProbe(out);
  assert.equal(facts.home, '/home/me');
  assert.equal(facts.cpuCount, 64);
  assert.equal(facts.load1, 12.5);
  assert.equal(facts.memTotalBytes, 263854320 * 1024);
  assert.equal(facts.memAvailableBytes, 200000000 * 1024);
  assert.deepEqual(facts.gpus.map((g) => [g.uuid, g.utilizationPct, g.memoryUsedMiB, g.foreignProcesses, g.leftoverJobs]), [
    ['GPU-aaa', 97, 70000, 0, ['job-7']],
    ['GPU-bbb', undefined, undefined, 2, undefined],
  ]);
  assert.equal(facts.gpuNote, undefined);
});

test('the probe parser explains a missing, failing or hanging nvidia-smi', () => {
  assert.equal(parseProbe('TRAINQ-PROBE\n@cpus 4\n@gpus missing\n@end\n').gpuNote, 'nvidia-smi not found');
  const failing = parseProbe("TRAINQ-PROBE\n@gpus 9\nNVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n@end\n");
  assert.deepEqual(failing.gpus, []);
  assert.equal(failing.gpuNote, "nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
  assert.equal(parseProbe('TRAINQ-PROBE\n@gpus 124\n\n@end\n').gpuNote, 'nvidia-smi timed out after 10 s');
  assert.equal(parseProbe('TRAINQ-PROBE\n@gpus 0\n\n@end\n').gpuNote, 'nvidia-smi reported no GPUs');
  assert.throws(() => parseProbe('fish: Unknown command\n'), /did not answer the probe/);
});

test('launch and ensure answers are parsed; their errors carry the script\'s words', () => {
  assert.deepEqual(parseLaunch('motd\nTRAINQ-PGID 4321\n'), { pgid: 4321, existing: false });
  assert.deepEqual(parseLaunch('TRAINQ-PGID 77 existing\n'), { pgid: 77, existing: true });
  assert.throws(() => parseLaunch("TRAINQ-ERROR interpreter 'python9' was not found on the host\n"), /^Error: interpreter 'python9' was not found/);
  assert.deepEqual(parseEnsure('TRAINQ-ENSURE\n@workdir /home/me/trainq\n@rsync 0\n@tar 1\n'), { workdir: '/home/me/trainq', rsync: false, tar: true });
  assert.throws(() => parseEnsure('TRAINQ-ERROR cannot create /x/.trainq/jobs\n'), /cannot create/);
});

test('the poll script frames each job: liveness, exit code, log size and bytes from the offset', async () => {
  const jobs = path.join(dir, 'jobs');
  const binary = Buffer.concat([Buffer.from('first line\nTRAINQ-END fake\n'), Buffer.from([0, 255, 10, 13]), Buffer.from('tail')]);
  await fs.mkdir(path.join(jobs, 'done'), { recursive: true });
  await fs.writeFile(path.join(jobs, 'done', 'output.log'), binary);
  await fs.writeFile(path.join(jobs, 'done', 'exit'), '3\n');
  await fs.mkdir(path.join(jobs, 'dead'), { recursive: true });
  await fs.writeFile(path.join(jobs, 'dead', 'pgid'), '999999999\n');
  // A live group whose leader's command line names its job folder, as the wrapper's does.
  await fs.mkdir(path.join(jobs, 'live'), { recursive: true });
  const liveDir = path.join(jobs, 'live');
  const live = spawn('sh', ['-c', 'sleep 30', 'trainq-job', liveDir], { detached: true, stdio: 'ignore' });
  await fs.writeFile(path.join(liveDir, 'pgid'), `${live.pid}\n`);
  try {
    const out = runLocally(POLL_SCRIPT, [jobs, '1000', '1000', 'done', '0', '0', 'dead', '0', '0', 'live', '-1', '-1', 'nowhere', '0', '0']);
    const entries = parsePoll(out);
    assert.deepEqual(entries.map((e) => [e.jobId, e.missing, e.alive, e.exitCode, e.size]), [
      ['done', false, false, 3, binary.length],
      ['dead', false, false, undefined, 0],
      ['live', false, true, undefined, 0],
      ['nowhere', true, false, undefined, 0],
    ]);
    assert.deepEqual(entries[0].data, binary, 'bytes that look like frame markers are data');
    assert.equal(entries[2].pgid, live.pid);
    const part = parsePoll(runLocally(POLL_SCRIPT, [jobs, '5', '5', 'done', '6', '0']))[0];
    assert.equal(part.data.toString(), 'line\n', 'at most maxChunk bytes, from the offset');
  } finally {
    process.kill(-live.pid!, 'SIGKILL');
  }
});

test('the poll frame carries the metrics file after the log: its size, and bytes from its own offset', async () => {
  const jobs = path.join(dir, 'metrics-jobs');
  const log = 'epoch 1\nTRAINQ-END m\n';
  const metrics = '{"val_acc": 0.5, "step": 1}\n{"val_acc": 0.75, "step": 2}\n';
  await fs.mkdir(path.join(jobs, 'm'), { recursive: true });
  await fs.writeFile(path.join(jobs, 'm', 'output.log'), log);
  await fs.writeFile(path.join(jobs, 'm', 'metrics.jsonl'), metrics);
  await fs.mkdir(path.join(jobs, 'plain'), { recursive: true });
  await fs.writeFile(path.join(jobs, 'plain', 'output.log'), log);
  const [both, none] = parsePoll(runLocally(POLL_SCRIPT, [jobs, '1000', '1000', 'm', '0', '0', 'plain', '0', '0']));
  assert.deepEqual([both.data.toString(), both.size, both.metrics.toString(), both.metricsSize], [log, log.length, metrics, metrics.length]);
  assert.deepEqual([none.data.toString(), none.metrics.length, none.metricsSize], [log, 0, 0], 'no metrics file: an empty part');
  const second = metrics.indexOf('{"val_acc": 0.75');
  const rest = parsePoll(runLocally(POLL_SCRIPT, [jobs, '1000', '10', 'm', '-1', String(second)]))[0];
  assert.deepEqual([rest.data.length, rest.metrics.toString()], [0, metrics.slice(second, second + 10)], 'from its offset, at most its chunk; the log not asked for');
  const full = parsePoll(runLocally(POLL_SCRIPT, [jobs, '1000', '1000', 'm', String(log.length), '-1']))[0];
  assert.deepEqual([full.metrics.length, full.metricsSize], [0, metrics.length], 'offset -1: the copy is full, only the size comes');
});

test('a pid reused by an unrelated process does not count as the job', async () => {
  const jobs = path.join(dir, 'reused');
  await fs.mkdir(path.join(jobs, 'j'), { recursive: true });
  const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  await fs.writeFile(path.join(jobs, 'j', 'pgid'), `${stranger.pid}\n`);
  try {
    assert.equal(parsePoll(runLocally(POLL_SCRIPT, [jobs, '10', '10', 'j', '0', '0']))[0].alive, false);
    assert.equal(runLocally(CANCEL_SCRIPT, [jobs, 'j', String(stranger.pid), '0']).toString().trim(), 'TRAINQ-CANCEL not-running');
    process.kill(stranger.pid!, 0);
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('cancel of a job whose group is gone still ends what it left running, after the grace', { skip: process.platform !== 'linux' }, async () => {
  const jobs = path.join(dir, 'left');
  const id = `left-${process.pid}`;
  await fs.mkdir(path.join(jobs, id), { recursive: true });
  const leftover = spawn('sh', ['-c', 'trap "" TERM; exec sleep 30'], { detached: true, stdio: 'ignore', env: { ...process.env, TRAINQ_JOB_ID: id } });
  const gone = new Promise((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
  await new Promise((r) => setTimeout(r, 100));
  try {
    const t0 = Date.now();
    // The answer comes at once; a detached watcher does the rest, so the call cannot hold the connection.
    assert.equal(runLocally(CANCEL_SCRIPT, [jobs, id, '-', '3']).toString().trim(), 'TRAINQ-CANCEL no-pgid');
    assert.equal(await gone, 'SIGKILL');
    assert.ok(Date.now() - t0 >= 300, 'SIGKILL only after the grace');
  } finally {
    leftover.kill('SIGKILL');
  }
});

test('a torn or foreign poll answer is an error, never half a log', () => {
  const frame = (log: string, metrics: string, mcount = metrics.length) =>
    Buffer.from(`TRAINQ-POLL\nTRAINQ-JOB a 1 - ${log.length} ${log.length} 5 ${metrics.length} ${mcount}\n${log}${metrics}\nTRAINQ-END a\n`);
  assert.deepEqual(parsePoll(frame('log\n', '{"x": 1}\n')).map((e) => [e.data.toString(), e.metrics.toString(), e.metricsSize]), [['log\n', '{"x": 1}\n', 9]]);
  assert.throws(() => parsePoll(Buffer.from('TRAINQ-POLL\nTRAINQ-JOB a 1 - 10 10 5 0 0\nshort\nTRAINQ-END a\n')), /arrived incomplete/);
  assert.throws(() => parsePoll(frame('log\n', '{"x": 1}\n', 20)), /arrived incomplete/, 'metrics bytes short of their count');
  assert.throws(() => parsePoll(frame('log\n', '{"x": 1}\n', 3)), /arrived incomplete/, 'more bytes than counted: the trailer is off');
  const cut = frame('log\n', '{"x": 1}\n');
  assert.throws(() => parsePoll(cut.subarray(0, cut.length - 8)), /arrived incomplete/, 'an answer cut off mid-frame');
  assert.throws(() => parsePoll(Buffer.from('TRAINQ-POLL\nTRAINQ-JOB a 1 - 10 10 5\n0123456789\nTRAINQ-END a\n')), /unexpected poll output/, 'a header without the metrics fields');
  assert.throws(() => parsePoll(Buffer.from('TRAINQ-POLL\nsomething else\n')), /unexpected poll output/);
  assert.throws(() => parsePoll(Buffer.from('nothing')), /did not answer the job poll/);
});
