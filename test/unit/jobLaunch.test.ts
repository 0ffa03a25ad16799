import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FencedError } from '../../src/core/dispatchFence';
import { silentLogger } from '../../src/core/logger';
import { LocalHost } from '../../src/hosts/local/localHost';
import type { Job } from '../../src/core/job';
import { launchOne } from '../../src/core/jobLaunch';
import type { LaunchRequest, LaunchResult } from '../../src/core/host';
import { FakeHost, makeJob } from '../support/builders';

/** Hands the request to Node's spawn as a host does, so whatever spawn refuses is refused for real. */
class SpawningHost extends FakeHost {
  override async launch(request: LaunchRequest): Promise<LaunchResult> {
    const child = spawn('true', [request.script, ...request.args], { cwd: request.cwd, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.kill('SIGKILL');
    return { kind: 'process', pgid: child.pid ?? 0 };
  }
}

const launch = (job: Job) => launchOne({ job, host: 'local', gpuIndices: [] }, new SpawningHost('local', 0));

test('a job whose arguments hold a NUL (saved by an older TrainQ) fails with TrainQ\'s message, not spawn\'s', async () => {
  const job = makeJob({ script: '/ws/train.sh', args: ['--name', 'a\u0000b'], cwd: '/' });
  const outcome = await launch(job);
  assert.equal(outcome.kind, 'failed');
  assert.equal(
    outcome.kind === 'failed' && outcome.message,
    'Argument 2 "a\\u0000b" contains a NUL character (U+0000), which cannot be passed to a program. Remove it and queue the job again.',
  );
  assert.doesNotMatch(JSON.stringify(outcome), /null bytes|ERR_INVALID_ARG_VALUE/);
});

test('a NUL in the script path or the working folder is named as such', async () => {
  const job = makeJob({ script: '/ws/train\u0000.py', args: ['--lr', '1'], cwd: '/' });
  const script = await launch(job);
  assert.match(script.kind === 'failed' ? script.message : '', /^The script path "\/ws\/train\\u0000\.py" contains a NUL character/);
  const cwd = await launch({ ...job, script: '/ws/train.py', cwd: '/tmp\u0000x' });
  assert.match(cwd.kind === 'failed' ? cwd.message : '', /^The working folder "\/tmp\\u0000x" contains a NUL character/);
});

test('clean arguments reach the host unchanged, with the script, folder and GPUs, and no variables of the job yet', async () => {
  const host = new FakeHost('local', 0);
  const job = makeJob({ args: ['--name', 'my run', '$(x)', ''] });
  const outcome = await launchOne({ job, host: 'local', gpuIndices: [2] }, host);
  assert.equal(outcome.kind, 'started');
  const { script, args, cwd, gpuIndices, env } = host.launches[0];
  assert.deepEqual({ script, args, cwd, gpuIndices, env }, { script: '/ws/train.py', args: ['--name', 'my run', '$(x)', ''], cwd: '/ws', gpuIndices: [2], env: {} });
});

test('the local host checks the fence as its last step before the spawn: a fenced launch starts no process', async (t) => {
  const jobsRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'trainq-fenced-'));
  t.after(() => fs.rm(jobsRoot, { recursive: true, force: true }));
  const host = new LocalHost({ jobsRoot, maxJobs: 1, nvidiaSmi: '/nonexistent', logger: silentLogger });
  t.after(() => host.dispose());
  const job = makeJob({ id: 'fenced-job', script: path.join(jobsRoot, 'start.sh'), cwd: jobsRoot });
  let checks = 0;
  // The first check (in launchOne, before the host) passes; the host's own, just before spawn, finds the fence gone.
  const outcome = await launchOne({ job, host: 'local', gpuIndices: [] }, host, () => {
    if (++checks > 1) {
      throw new FencedError();
    }
  });
  assert.equal(outcome.kind, 'fenced');
  assert.equal(checks, 2);
  assert.deepEqual(await fs.readdir(path.join(jobsRoot, 'fenced-job')).then((names) => names.filter((n) => n !== 'output.log')), [], 'no pgid, no exit: nothing ran');
  await assert.rejects(fs.stat(path.join(jobsRoot, 'started')));
});

test("the launch request carries the model's p80 for the job on the chosen host (a Slurm time limit); none without a model", async () => {
  const host = new FakeHost('lab-2', 1, 8, 1.6);
  const asked: Array<{ script: string; host: string; speed: number }> = [];
  const model = {
    predictOn: (q: { script: string }, hosts: ReadonlyArray<{ name: string; declaredSpeed: number }>) =>
      hosts.map((h) => (asked.push({ script: q.script, host: h.name, speed: h.declaredSpeed }), { medianSec: 900, p80Sec: 1200, runs: 3, scriptRuns: 3 })),
  };
  const job = makeJob({ script: '/ws/sub/train.py', cwd: '/ws' });
  assert.equal((await launchOne({ job, host: 'lab-2', gpuIndices: [0] }, host, undefined, model)).kind, 'started');
  assert.equal(host.launches[0].predictedP80Sec, 1200);
  assert.deepEqual(asked, [{ script: path.join('sub', 'train.py'), host: 'lab-2', speed: 1.6 }]);
  await launchOne({ job, host: 'lab-2', gpuIndices: [0] }, host);
  assert.equal(host.launches[1].predictedP80Sec, undefined);
});
