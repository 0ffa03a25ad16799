import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobCommand } from '../../src/hosts/jobCommand';
import { assertJobEnv, envEntries } from '../../src/hosts/jobEnv';
import { processGroupOf, slurmIdOf } from '../../src/hosts/jobHandle';
import { makeJob as buildJob } from '../support/builders';

test('.py jobs run with the given interpreter, .sh with bash; arguments stay verbatim', () => {
  const args = ['--lr', '0.1', '/ws/proj/train.py', "'; rm -rf ~; '", '$(id)', ''];
  assert.deepEqual(jobCommand('/ws/proj/train.py', args, '/ws/proj', '~/envs/torch/bin/python'), ['~/envs/torch/bin/python', '/ws/proj/train.py', ...args]);
  assert.deepEqual(jobCommand('/ws/proj/TRAIN.PY', [], '/ws/proj', 'python3'), ['python3', '/ws/proj/TRAIN.PY']);
  assert.deepEqual(jobCommand('/ws/proj/run.sh', ['a'], '/ws/proj', 'python3'), ['bash', '/ws/proj/run.sh', 'a']);
});

test('other scripts are refused, as the queue command refuses them', () => {
  assert.throws(() => jobCommand('/ws/proj/run.rb', [], '/ws/proj', 'python3'), /TrainQ runs \.py and \.sh scripts; run\.rb is neither/);
  assert.throws(() => jobCommand('/ws/proj/Makefile', [], '/ws/proj', 'python3'), /Makefile is neither/);
});

test('a NUL anywhere is refused with the job\'s own words: arguments first, then the paths', () => {
  assert.throws(() => jobCommand('/ws/a\0.py', ['ok', 'b\0ad'], '/ws', 'python3'), /Argument 2 "b\\u0000ad" contains a NUL/);
  assert.throws(() => jobCommand('/ws/a\0.py', [], '/ws', 'python3'), /The interpreter or script path "\/ws\/a\\u0000\.py" contains a NUL/);
  assert.throws(() => jobCommand('/ws/a.py', [], '/ws', 'py\0thon'), /The interpreter or script path "py\\u0000thon" contains a NUL/);
  assert.throws(() => jobCommand('/ws/a.py', [], '/w\0s', 'python3'), /The working folder "\/w\\u0000s" contains a NUL/);
});

test('a job env follows the rules of a host env; the job wins a name both set', () => {
  assert.deepEqual(envEntries({ A: '1', B: 'host' }, { B: '$HOME; x', C: '' }), ['A=1', 'B=$HOME; x', 'C=']);
  assert.throws(() => assertJobEnv({ '1X': 'v' }), /not a valid variable name/);
  assert.throws(() => assertJobEnv({ 'A B': 'v' }), /not a valid variable name/);
  assert.throws(() => assertJobEnv({ 'A=B': 'v' }), /not a valid variable name/);
  assert.throws(() => assertJobEnv({ CUDA_VISIBLE_DEVICES: '0' }), /set by TrainQ/);
  assert.throws(() => assertJobEnv({ TRAINQ_JOB_ID: 'x' }), /set by TrainQ/);
  assert.throws(() => assertJobEnv({ A: 'a\0b' }), /without NUL/);
  assert.throws(() => envEntries({}, { TRAINQ_JOB_ID: 'x' }), /set by TrainQ/);
});

test('a host refuses the handle of the other kind with a clear message', () => {
  const proc = buildJob({ id: 'j1', handle: { kind: 'process', pgid: 4321 } });
  const slurm = buildJob({ id: 'j2', handle: { kind: 'slurm', jobId: '77' } });
  assert.equal(processGroupOf(proc, 'gpu-a'), 4321);
  assert.equal(slurmIdOf(slurm, 'cluster'), '77');
  assert.equal(processGroupOf(buildJob({ id: 'j3' }), 'gpu-a'), undefined);
  assert.equal(slurmIdOf(buildJob({ id: 'j3' }), 'cluster'), undefined);
  assert.throws(() => processGroupOf(slurm, 'gpu-a'), /Job j2 was submitted to Slurm \(job 77\); gpu-a runs jobs as processes/);
  assert.throws(() => slurmIdOf(proc, 'cluster'), /Job j1 was started as a process \(group 4321\), not by Slurm; cluster cannot/);
});
