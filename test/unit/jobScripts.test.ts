import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KILL_SCRIPT, WRAPPER_SCRIPT } from '../../src/hosts/jobScripts';
import { runJobScript } from '../../src/hosts/local/localProcess';
import { markedProcesses } from '../support/jobProcesses';
import { waitFor } from '../support/waiting';

const linuxOnly = process.platform !== 'linux';
let dir: string;
let seq = 0;
const started: ChildProcess[] = [];

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-jobscripts-'));
});

after(async () => {
  for (const child of started) child.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

function jobId(): string {
  seq += 1;
  return `sweep-${process.pid}-${seq}`;
}

/** A process in its own session (like a child that called setsid), carrying `env`. */
function startDetached(script: string, env: Record<string, string>): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null> } {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  started.push(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited };
}

const marked = (id: string) => markedProcesses(id);

const IGNORES_TERM = 'trap "" TERM; exec sleep 60';

test('the sweep ends every process of the job, SIGTERM first, SIGKILL for one that ignores it; other jobs are untouched', { skip: linuxOnly }, async () => {
  const id = jobId();
  const stubborn = startDetached(IGNORES_TERM, { TRAINQ_JOB_ID: id });
  const polite = startDetached('exec sleep 60', { TRAINQ_JOB_ID: id });
  const otherJob = startDetached('exec sleep 60', { TRAINQ_JOB_ID: `${id}-other` });
  const prefix = startDetached('exec sleep 60', { TRAINQ_JOB_ID: id.slice(0, -1) });
  await waitFor('the processes to start', async () => (await marked(id)).length === 2);
  const t0 = Date.now();
  const { ok } = await runJobScript(KILL_SCRIPT, ['sweep', id, '5'], 20_000);
  const took = Date.now() - t0;
  assert.equal(ok, true);
  assert.equal(await polite.exited, 'SIGTERM');
  assert.equal(await stubborn.exited, 'SIGKILL');
  assert.ok(took >= 500, `SIGKILL only after the 0.5 s grace (took ${took} ms)`);
  assert.deepEqual(await marked(id), [], 'no process of the job is left');
  assert.equal(otherJob.child.exitCode, null, 'another job\'s process keeps running');
  assert.equal(prefix.child.exitCode, null, 'the marker must match exactly');
  assert.equal(otherJob.child.signalCode, null);
  otherJob.child.kill('SIGKILL');
  prefix.child.kill('SIGKILL');
});

test('terminate signals the job\'s group and what escaped it, and SIGKILLs both after the grace', { skip: linuxOnly }, async () => {
  const id = jobId();
  const jobDir = path.join(dir, id);
  await fs.mkdir(jobDir);
  // A stand-in for the wrapper: a group leader whose command line names the job folder.
  const group = spawn('sh', ['-c', `${IGNORES_TERM.replace('exec ', '')}`, 'trainq-job', jobDir], { detached: true, stdio: 'ignore' });
  started.push(group);
  const groupExit = new Promise((resolve) => group.once('exit', (_c, signal) => resolve(signal)));
  const escaped = startDetached(IGNORES_TERM, { TRAINQ_JOB_ID: id });
  await waitFor('the escaped child to start', async () => (await marked(id)).length === 1);
  const { ok } = await runJobScript(KILL_SCRIPT, ['terminate', String(group.pid), jobDir, id, '3'], 20_000);
  assert.equal(ok, true);
  assert.equal(await groupExit, 'SIGKILL');
  assert.equal(await escaped.exited, 'SIGKILL');
  assert.deepEqual(await marked(id), []);
});

test('a wrapper run as Slurm runs it (marker in its own environment) sweeps the escaped child, records the code and survives its own sweep', { skip: linuxOnly }, async () => {
  const id = jobId();
  const jobDir = path.join(dir, id);
  await fs.mkdir(jobDir);
  const pidFile = path.join(dir, `${id}.child`);
  const job = `setsid sh -c 'trap "" TERM; echo $$ > "$1"; exec sleep 60' child '${pidFile}' & while [ ! -s '${pidFile}' ]; do sleep 0.05; done; exit 4`;
  const wrapper = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, 'trainq-job', jobDir, 'sh', '-c', job], {
    stdio: 'ignore',
    env: { ...process.env, TRAINQ_JOB_ID: id, TRAINQ_WRAP_GRACE: '3' },
  });
  const code = await new Promise((resolve) => wrapper.once('exit', resolve));
  assert.equal(code, 4);
  assert.equal((await fs.readFile(path.join(jobDir, 'exit'), 'utf8')).trim(), '4');
  assert.equal((await fs.readFile(path.join(jobDir, 'ended'), 'utf8')).trim(), '4');
  const child = Number(await fs.readFile(pidFile, 'utf8'));
  const state = await fs.readFile(`/proc/${child}/stat`, 'utf8').catch(() => '');
  assert.ok(state === '' || / Z /.test(state), `the escaped child ${child} is gone (${state})`);
  assert.deepEqual(await marked(id), []);
  assert.equal(existsSync(path.join(jobDir, 'output.pipe')), false, 'no log cap asked, no pipe made');
});
