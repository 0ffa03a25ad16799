import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { FORGET_CHUNK, FORGET_SCRIPT, forgetJobFolders, forgettable, parseForget } from '../../src/hosts/remote/remoteCleanup';
import { makeJob } from '../support/builders';

/** Runs the script as ssh would (`sh -s` with the script on stdin), here on this machine. */
function runHere(args: string[]): string {
  const run = spawnSync('sh', ['-s', '--', ...args], { input: FORGET_SCRIPT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

test('the clean-up script deletes finished job folders, keeps one whose process group runs, and touches nothing else', async () => {
  const jobs = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-forget-'));
  for (const id of ['done', 'busy', 'stale']) {
    await fs.mkdir(path.join(jobs, id));
    await fs.writeFile(path.join(jobs, id, 'output.log'), 'log\n');
  }
  await fs.writeFile(path.join(jobs, 'done', 'exit'), '0\n');
  // A leader whose command line holds the folder, as the wrapper's does; and a pgid whose process is gone.
  const busy = spawn('sh', ['-c', 'sleep 30', 'trainq-wrapper', path.join(jobs, 'busy')], { detached: true, stdio: 'ignore' });
  await fs.writeFile(path.join(jobs, 'busy', 'pgid'), `${busy.pid}\n`);
  await fs.writeFile(path.join(jobs, 'stale', 'pgid'), '999999\n');
  await fs.mkdir(path.join(path.dirname(jobs), `${path.basename(jobs)}-sibling`), { recursive: true });
  try {
    const out = runHere([jobs, 'done', 'busy', 'stale', 'missing', '..', 'a/b']);
    // '..' and 'a/b' are refused (counted as kept), 'missing' is simply not there.
    assert.deepEqual(parseForget(out), { removed: 2, kept: 3 });
    assert.equal(existsSync(path.join(jobs, 'done')), false);
    assert.equal(existsSync(path.join(jobs, 'stale')), false);
    assert.ok(existsSync(path.join(jobs, 'busy', 'output.log')), 'a running job keeps its folder');
    assert.ok(existsSync(path.join(path.dirname(jobs), `${path.basename(jobs)}-sibling`)), 'nothing outside the jobs folder');
  } finally {
    process.kill(-(busy.pid as number), 'SIGKILL');
    await fs.rm(jobs, { recursive: true, force: true });
    await fs.rm(path.join(path.dirname(jobs), `${path.basename(jobs)}-sibling`), { recursive: true, force: true });
  }
});

test('which removed jobs a host may forget: its own finished ones; lost ones only where it can check the process', () => {
  const jobs = [
    makeJob({ id: 'a', host: 'gpu', state: 'succeeded' }),
    makeJob({ id: 'b', host: 'gpu', state: 'lost' }),
    makeJob({ id: 'c', host: 'other', state: 'failed' }),
    makeJob({ id: 'd', host: 'gpu', state: 'running' }),
    makeJob({ id: 'e', host: 'gpu', state: 'cancelled' }),
  ];
  assert.deepEqual(forgettable(jobs, 'gpu', 'ssh'), ['a', 'b', 'e']);
  assert.deepEqual(forgettable(jobs, 'gpu', 'slurm'), ['a', 'e']);
  assert.throws(() => forgettable([makeJob({ id: '../x', host: 'gpu', state: 'failed' })], 'gpu', 'ssh'), /job id/i);
});

test('many jobs go in chunks, and the outcomes add up; a garbled reply is an error, not a silent success', async () => {
  const calls: string[][] = [];
  const ids = Array.from({ length: FORGET_CHUNK * 2 + 5 }, (_, i) => `job-${i}`);
  const outcome = await forgetJobFolders(
    async (args) => {
      calls.push(args);
      return `motd line\nTRAINQ-FORGET ${args.length - 2} 1\n`;
    },
    '/home/u/trainq/.trainq/jobs',
    ids,
  );
  assert.deepEqual(calls.map((c) => c.length - 1), [FORGET_CHUNK, FORGET_CHUNK, 5]);
  assert.ok(calls.every((c) => c[0] === '/home/u/trainq/.trainq/jobs'));
  assert.deepEqual(outcome, { removed: FORGET_CHUNK * 2 + 5 - 3, kept: 3 });
  assert.throws(() => parseForget('sh: 1: rm: not found\n'), /unexpected reply/);
});
