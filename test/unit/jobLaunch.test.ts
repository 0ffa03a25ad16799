import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Job } from '../../src/core/job';
import { launchOne } from '../../src/core/jobLaunch';
import type { LaunchRequest, LaunchResult } from '../../src/hosts/host';
import { FakeHost, makeJob } from '../support/builders';

/** Hands the command to Node's spawn as the local host does, so whatever spawn refuses is refused for real. */
class SpawningHost extends FakeHost {
  override async launch(request: LaunchRequest): Promise<LaunchResult> {
    const child = spawn(request.command[0], request.command.slice(1), { cwd: request.job.cwd, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.kill('SIGKILL');
    return { pgid: child.pid ?? 0 };
  }
}

const launch = (job: Job, command: (job: Job) => string[]) =>
  launchOne({ job, host: 'local', gpuIndices: [] }, new SpawningHost('local', 0), async (j) => command(j));

test('a job whose arguments hold a NUL (saved by an older TrainQ) fails with TrainQ\'s message, not spawn\'s', async () => {
  const job = makeJob({ script: '/ws/train.sh', args: ['--name', 'a\u0000b'], cwd: '/' });
  const outcome = await launch(job, (j) => ['bash', j.script, ...j.args]);
  assert.equal(outcome.kind, 'failed');
  assert.equal(
    outcome.kind === 'failed' && outcome.message,
    'Argument 2 "a\\u0000b" contains a NUL character (U+0000), which cannot be passed to a program. Remove it and queue the job again.',
  );
  assert.doesNotMatch(JSON.stringify(outcome), /null bytes|ERR_INVALID_ARG_VALUE/);
});

test('a NUL in the interpreter or the working folder is named as such', async () => {
  const job = makeJob({ script: '/ws/train.py', args: ['--lr', '1'], cwd: '/' });
  const interpreter = await launch(job, (j) => ['python\u00003', j.script, ...j.args]);
  assert.match(interpreter.kind === 'failed' ? interpreter.message : '', /^The interpreter or script path "python\\u00003" contains a NUL character/);
  const cwd = await launch({ ...job, cwd: '/tmp\u0000x' }, (j) => ['true', j.script]);
  assert.match(cwd.kind === 'failed' ? cwd.message : '', /^The working folder "\/tmp\\u0000x" contains a NUL character/);
});

test('clean arguments reach the host unchanged', async () => {
  const host = new FakeHost('local', 0);
  const job = makeJob({ args: ['--name', 'my run', '$(x)', ''] });
  const outcome = await launchOne({ job, host: 'local', gpuIndices: [] }, host, async (j) => ['python3', j.script, ...j.args]);
  assert.equal(outcome.kind, 'started');
  assert.deepEqual(host.launches[0].command, ['python3', '/ws/train.py', '--name', 'my run', '$(x)', '']);
});
