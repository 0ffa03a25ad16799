import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { silentLogger } from '../../src/core/logger';
import type { HostStatus } from '../../src/core/host';
import { HostUnreachableError } from '../../src/core/hostErrors';
import { RemoteSession, type RemoteSessionOptions, type ScriptRunner } from '../../src/hosts/remote/session';
import { ENSURE_SCRIPT } from '../../src/hosts/remote/remoteScripts';
import { SshError, type RunResult } from '../../src/hosts/remote/sshTransport';
import { makeJob } from '../support/builders';
import { waitFor } from '../support/waiting';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trainq-session-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ok = (stdout: string): RunResult => ({ code: 0, stdout: Buffer.from(stdout), stderr: '' });
const refused = () => new SshError('unreachable', 'unreachable: Connection refused', 'ssh: connect to host x: Connection refused', false);

/** A runner over scripted answers: a function per call, recording each script's first words. */
function scripted(answers: Array<(script: string, args: readonly string[]) => RunResult>) {
  const calls: Array<{ script: string; args: readonly string[] }> = [];
  const runner: ScriptRunner = {
    async runScript(script, args) {
      calls.push({ script, args });
      const next = answers.shift();
      assert.ok(next, 'the test ran out of answers');
      return next(script, args);
    },
  };
  return { runner, calls };
}

function session(runner: ScriptRunner, over: Partial<RemoteSessionOptions> = {}) {
  const statuses: HostStatus[] = [];
  let reprobes = 0;
  const s = new RemoteSession({
    name: 'cluster',
    kind: 'slurm',
    host: { jobsRoot: tmp, logger: silentLogger, backoff: { baseMs: 50, maxMs: 100 } },
    localRunner: runner,
    localJobsDir: '/shared/jobs',
    workdir: '~/trainq',
    sync: 'none',
    python: 'python3',
    reprobe: async () => void (reprobes += 1),
    onOffline: (st) => void statuses.push(st),
    ...over,
  });
  return { s, statuses, reprobes: () => reprobes };
}

test('a failed call takes the host offline and schedules a retry by itself; the first success brings it back', async () => {
  const { runner } = scripted([
    () => {
      throw refused();
    },
    () => ok('fine'),
  ]);
  const { s, statuses, reprobes } = session(runner);
  try {
    await assert.rejects(s.run('echo', []), SshError);
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0].state, 'offline');
    assert.equal(statuses[0].problem, 'unreachable');
    assert.equal(s.health.inBackoff(), true);
    // Nobody asks: the retry timer probes again after the backoff.
    await waitFor('the scheduled retry', () => reprobes() === 1, 2000);
    assert.equal((await s.run('echo', [])).stdout.toString(), 'fine');
    assert.equal(s.health.online, true);
    // A call that brings the host back (not a probe) asks for a probe to fill in its status.
    await waitFor('the probe after the recovery', () => reprobes() === 2, 2000);
  } finally {
    s.dispose();
  }
});

test('no retry fires after dispose, and errors that are no connection failure leave the host online', async () => {
  const { runner } = scripted([
    () => {
      throw new Error('a bug');
    },
    () => {
      throw refused();
    },
  ]);
  const { s, statuses, reprobes } = session(runner);
  await assert.rejects(s.run('x', []), /a bug/);
  assert.equal(s.health.online, true);
  assert.equal(statuses.length, 0);
  await assert.rejects(s.run('x', []), SshError);
  s.dispose();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(reprobes(), 0, 'a disposed session schedules nothing');
});

test('probeScript makes no call while the host backs off, unless forced', async () => {
  const { runner, calls } = scripted([
    () => {
      throw refused();
    },
    () => ok('probed'),
  ]);
  const { s } = session(runner, { host: { jobsRoot: tmp, logger: silentLogger, backoff: { baseMs: 60_000, maxMs: 60_000 } } });
  try {
    assert.equal(await s.probeScript('probe', [], false), undefined);
    assert.equal(await s.probeScript('probe', [], false), undefined);
    assert.equal(calls.length, 1, 'the second probe fell in the backoff');
    assert.equal(await s.probeScript('probe', [], true), 'probed');
    assert.equal(s.health.online, true);
  } finally {
    s.dispose();
  }
});

test('the work folder is learned once; a failed or unreadable answer is not cached and counts as a host failure', async () => {
  const { runner, calls } = scripted([
    () => {
      throw refused();
    },
    () => ok('motd only\n'),
    () => ok('TRAINQ-ENSURE\n@workdir /home/me/trainq\n@rsync 1\n'),
  ]);
  const { s, statuses } = session(runner, { localJobsDir: undefined });
  try {
    await assert.rejects(s.ensure(), SshError);
    const unreadable = await s.ensure().catch((e: unknown) => e);
    assert.ok(unreadable instanceof SshError && /^work folder: /.test(unreadable.message), String(unreadable));
    assert.equal(statuses.at(-1)?.error, unreadable.message);
    assert.equal(await s.jobsDir(), '/home/me/trainq/.trainq/jobs');
    assert.equal(await s.jobsDir(), '/home/me/trainq/.trainq/jobs');
    assert.equal(calls.length, 3, 'cached after the first good answer');
    assert.ok(calls.every((c) => c.script === ENSURE_SCRIPT && c.args[0] === '~/trainq'));
  } finally {
    s.dispose();
  }
});

test('a job placed through a local runner keeps its paths and runs .py with the host python', async () => {
  const { runner } = scripted([]);
  const { s } = session(runner, { python: '/opt/py/bin/python' });
  const job = makeJob({ id: 'j1', script: '/ws/proj/train.py', args: ['--x', '$(id)'], cwd: '/ws/proj' });
  const placed = await s.placeJob({ job, script: job.script, args: job.args, cwd: job.cwd, gpuIndices: [], env: {} });
  assert.deepEqual(placed, { argv: ['/opt/py/bin/python', '/ws/proj/train.py', '--x', '$(id)'], cwd: '/ws/proj' });
  await assert.rejects(s.placeJob({ job, script: '/ws/proj/x.txt', args: [], cwd: job.cwd, gpuIndices: [], env: {} }), /neither/);
  s.dispose();
});

test('forget deletes finished jobs\' folders of this host only, in chunks, and adds up the answers', async () => {
  const seen: string[][] = [];
  const answers = [0, 1, 2].map(() => (_s: string, args: readonly string[]) => {
    seen.push([...args]);
    return ok(`TRAINQ-FORGET ${args.length - 1} 0\n`);
  });
  const { runner } = scripted(answers);
  const { s } = session(runner);
  const mine = Array.from({ length: 450 }, (_, i) => makeJob({ id: `f${i}`, host: 'cluster', state: 'succeeded' }));
  const others = [makeJob({ id: 'other', host: 'gpu-a', state: 'succeeded' }), makeJob({ id: 'lost', host: 'cluster', state: 'lost' })];
  assert.deepEqual(await s.forget([...mine, ...others]), { removed: 450, kept: 0 });
  assert.deepEqual(seen.map((a) => [a[0], a.length - 1]), [['/shared/jobs', 200], ['/shared/jobs', 200], ['/shared/jobs', 50]]);
  assert.ok(!seen.flat().includes('other') && !seen.flat().includes('lost'), 'a Slurm host keeps lost jobs, and other hosts\' jobs are not its own');
  s.dispose();
});

test('a call that times out resets the shared connection (ControlMaster), so the next call opens a fresh one', async () => {
  const log = path.join(tmp, 'ssh.log');
  const fakeSsh = path.join(tmp, 'fake-ssh');
  // Hangs like a wedged connection, except for the control command, which it records.
  writeFileSync(fakeSsh, `#!/bin/sh\ncase " $* " in *" -O "*) echo "$@" >> '${log}'; exit 0 ;; esac\nexec sleep 5\n`, { mode: 0o755 });
  const statuses: HostStatus[] = [];
  const s = new RemoteSession({
    name: 'gpu-a',
    kind: 'ssh',
    host: { jobsRoot: tmp, logger: silentLogger, controlDir: path.join(tmp, 'ctl'), sshCommand: fakeSsh, callTimeoutMs: 300, backoff: { baseMs: 60_000, maxMs: 60_000 } },
    destination: { host: 'gpu-a.example' },
    workdir: '~/trainq',
    sync: 'none',
    python: 'python3',
    reprobe: async () => undefined,
    onOffline: (st) => void statuses.push(st),
  });
  try {
    const err = await s.run('echo', []).catch((e: unknown) => e);
    assert.ok(err instanceof SshError && err.kind === 'timeout', String(err));
    assert.equal(statuses.at(-1)?.problem, 'timeout');
    await waitFor('ssh -O stop', () => existsSync(log), 3000);
    assert.match(readFileSync(log, 'utf8'), /-O stop -- gpu-a\.example/);
    // While it backs off, a launch step is refused as unreachable, not started.
    await assert.rejects(s.health.connected(() => s.ensure()), HostUnreachableError);
  } finally {
    s.dispose();
  }
});
